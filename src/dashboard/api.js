// Calls to the receiver's own /api routes. The session cookie authenticates them (the browser
// sends it; scripts cannot read it); requests that change something carry the session's CSRF
// token in a header, which a page of another site cannot set.
let session;

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers[session.csrfHeader] = session.csrfToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get('content-type') || '';
  const data = type.startsWith('application/json') ? await res.json() : await res.text();
  if (res.status === 401 && path !== '/dashboard/session') {
    // The session ended (expired, signed out elsewhere, key revoked): back to the sign-in page.
    location.assign('/dashboard/sign-in?error=expired');
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Who is signed in, and the CSRF token for this session. */
export async function loadSession() {
  session = await request('GET', '/dashboard/session');
  return session;
}

export const get = (path, params) => {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString() : '';
  return request('GET', q ? `${path}?${q}` : path);
};

export const post = (path, body) => request('POST', path, body);
