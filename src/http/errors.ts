// The JSON error bodies of the spec: `{ "error": ..., "message": ... }`. Every failure the
// HTTP layer reports is one of these; nothing else reaches a client.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const unauthorized = (message = 'Invalid or missing API key') => new HttpError(401, 'Unauthorized', message);
export const invalidPayload = (message: string) => new HttpError(400, 'Invalid webhook payload', message);
export const notFound = (message: string) => new HttpError(404, 'Not Found', message);
export const unavailable = (message: string) => new HttpError(503, 'Service Unavailable', message, { 'Retry-After': '5' });
