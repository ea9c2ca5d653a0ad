// The dashboard in a real browser: Debian's chromium driven by playwright-core against the whole
// stack (receiver, worker, Temporal, database). Calls are seeded through webhooks; the test signs
// in through the form, compares the numbers on screen with the API's, follows a call into its
// detail, cancels a follow-up from the page and sees the workflow change, checks the cookie, the
// CSRF and origin checks, and signing out. Screenshots land in .test-data/artifacts/dashboard/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startRollupLoop } from '../../src/store/rollupLoop';
import { addApiKey, revokeApiKey } from '../../src/store/organizations';
import { eventually, uniqueId } from '../support/harness';
import { deadLetteredCompletion } from '../support/inbox';
import { startStack, type Stack } from '../support/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', '.test-data', 'artifacts', 'dashboard');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `dashboard browser test skipped: no chromium at ${CHROMIUM} (scripts/ensure-tools.sh installs Debian's chromium as root; or set CHROMIUM_PATH)`,
  );
const suite = haveChromium ? describe : describe.skip;

let stack: Stack;
let rollups: { stop(): Promise<void> } | undefined;
let browser: Browser;
let readKey: string;
let webhookKey: string;
const done = uniqueId('c_dash_done');
const missed = uniqueId('c_dash_missed');
const busy = uniqueId('c_dash_busy');
const vapiCallId = uniqueId('vapi-dash');
const moved = uniqueId('c_dash_moved');
const blocked = uniqueId('c_dash_dnc');
const silent = uniqueId('c_dash_silent');
const contactId = uniqueId('ct_dash');

const generic = (callId: string, over: Record<string, unknown>) => ({
  callId,
  provider: 'generic',
  event: 'call.completed',
  from: '+14155551234',
  to: '+13125550142',
  duration: 95,
  status: 'completed',
  metadata: { contactId: `${contactId}_${callId.slice(-4)}`, agentId: 'agent_alpha' },
  ...over,
});

function vapiReport(): unknown {
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'providers', 'vapi', 'end-of-call-report.json'), 'utf8'));
  fixture.message.call.id = vapiCallId;
  fixture.message.call.assistantOverrides.metadata = { contactId: `${contactId}_vapi`, agentId: 'agent_beta' };
  return fixture;
}

/** A request with the admin key and a JSON body (the stack's helpers cover GET and POST). */
async function send(method: string, path: string, body: unknown): Promise<{ status: number }> {
  const res = await fetch(stack.baseUrl + path, {
    method,
    headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return { status: res.status };
}

/** The whole page, or (with the detail panel open, which is fixed to the window) what the window shows. */
async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  if (fullPage) await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

/** What the analytics API reports for the query the page last asked with. */
async function apiGet(page: Page, path: string, extra = '') {
  const query = (await page.getAttribute('body', 'data-query')) ?? '';
  const r = await stack.get(`${path}?${query}${extra}`);
  expect(r.status).toBe(200);
  return r.json;
}

suite('dashboard in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack('dashboard');
    // The worker process runs the analytics rollups (src/bin/worker.ts); the test stack's worker does not.
    rollups = startRollupLoop(stack.store.col, { intervalMs: 1_000 });
    readKey = (await addApiKey(stack.store.col, stack.orgId, { scope: 'read' })).key;
    webhookKey = (await addApiKey(stack.store.col, stack.orgId, { scope: 'webhook' })).key;
    // Calling rules: any hour in the US, but a one-hour window for UK numbers that the follow-up
    // (two hours from now) misses, so the UK call's follow-up is moved by the window. Informational
    // calls: no calling law narrows the window, so the test does not depend on the hour it runs at.
    const londonHour = Number(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' }).format(
        Date.now() + 2 * 3_600_000 + 300_000,
      ),
    );
    const start = (londonHour + 6) % 24;
    const hhmm = (h: number) => `${String(h).padStart(2, '0')}:00`;
    const rules = await send('PUT', '/api/settings/calling-rules', {
      purpose: 'informational',
      callingWindow: {
        start: '00:00',
        end: '24:00',
        days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
        regions: [{ region: 'GB', start: hhmm(start), end: start === 23 ? '24:00' : hhmm(start + 1) }],
      },
    });
    expect(rules.status).toBe(200);
    const sends = [
      stack.post(
        '/api/calls/webhook',
        generic(done, { recording_url: 'https://recordings.example/r1.mp3', transcript: 'Agent: Hello Dana.\nDana: Friday works.' }),
      ),
      stack.post('/api/calls/webhook', generic(missed, { event: 'call.failed', status: 'no-answer', duration: 0 })),
      stack.post(
        '/api/calls/webhook',
        generic(busy, { event: 'call.failed', status: 'busy', duration: 0, metadata: { agentId: 'agent_alpha' } }),
      ),
      stack.post('/api/calls/webhook/vapi', vapiReport()),
      stack.post('/api/calls/webhook', generic(moved, { event: 'call.failed', status: 'no-answer', duration: 0, to: '+442079460123' })),
      stack.post('/api/calls/webhook', generic(blocked, { event: 'call.failed', status: 'no-answer', duration: 0, to: '+13125550199' })),
      stack.post('/api/calls/webhook', generic(silent, { event: 'call.ringing', status: 'ringing', duration: undefined })),
    ];
    for (const r of await Promise.all(sends)) expect(r.status).toBe(200);
    await eventually(
      'the seeded calls recorded, with a follow-up scheduled for the no-answer',
      async () => {
        const [a, b, c, d, e, f, g] = await Promise.all(
          [done, missed, busy, vapiCallId, moved, blocked, silent].map((id) => stack.get(`/api/calls/${id}`)),
        );
        return (
          a.json?.status === 'completed' &&
          b.json?.followUp?.status === 'scheduled' &&
          c.json?.status === 'failed' &&
          d.json?.cost !== undefined &&
          e.json?.followUp?.window &&
          f.json?.followUp?.status === 'scheduled' &&
          g.json?.status === 'ringing'
        );
      },
      30_000,
    );
    // A call the platform stopped reporting on two hours ago (its record is aged in place; waiting is not an option).
    await stack.store.col.calls.updateOne(
      { _id: `${stack.orgId}:${silent}` },
      { $set: { updatedAt: new Date(Date.now() - 2 * 3_600_000) } },
    );
    // The person behind one no-answer asks not to be called: its follow-up is canceled (blocked).
    const dnc = await send('PATCH', `/api/contacts/${contactId}_${blocked.slice(-4)}`, { doNotCall: { reason: 'asked by letter' } });
    expect(dnc.status).toBe(200);
    await eventually(
      'the blocked follow-up canceled',
      async () => (await stack.get(`/api/calls/${blocked}`)).json?.followUp?.status === 'canceled',
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await rollups?.stop();
    await stack?.stop();
  });

  async function signIn(context: BrowserContext, key: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await page.fill('#key', key);
    await Promise.all([page.waitForURL(`${stack.baseUrl}/dashboard`), page.click('button[type=submit]')]);
    return page;
  }

  test("sign in, numbers against the API, a call's detail, cancel a follow-up, CSRF, sign out", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const urls: string[] = [];
    context.on('request', (r) => urls.push(r.url()));
    const consoleErrors: string[] = [];
    context.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    context.on('weberror', (e) => consoleErrors.push(String(e.error())));
    context.on('response', (r) => {
      if (r.status() === 404) consoleErrors.push(`404 for ${r.url()}`);
    });

    // A wrong key and a webhook key are refused on the form, with a reason.
    const first = await context.newPage();
    await first.goto(`${stack.baseUrl}/dashboard/sign-in`);
    await first.fill('#key', 'ck_nobody000_notarealkeynotarealkey');
    await Promise.all([first.waitForURL(/error=invalid/), first.click('button[type=submit]')]);
    expect(await first.textContent('#signin-error')).toMatch(/unknown or revoked/);
    await first.fill('#key', webhookKey);
    await Promise.all([first.waitForURL(/error=webhook/), first.click('button[type=submit]')]);
    expect(await first.textContent('#signin-error')).toMatch(/webhook key cannot sign in/);
    await shot(first, '01-sign-in-refused');
    await first.close();

    const page = await signIn(context, stack.apiKey);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'calls_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('calls_session');
    expect(await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).not.toContain('ck_');

    // The numbers on screen are the API's (the rollups may trail the calls by a moment).
    await page.waitForSelector('#card-total');
    expect(await page.getAttribute('body', 'data-query')).toMatch(/^from=\d{4}-\d\d-\d\d$/);
    await eventually(
      'the analytics counting the seven seeded calls',
      async () => (await apiGet(page, '/api/analytics/summary')).calls.total === 7,
      30_000,
    );
    const summary = await apiGet(page, '/api/analytics/summary');
    await page.click('#refresh');
    await page.locator('#card-total .value', { hasText: new RegExp(`^${summary.calls.total}$`) }).waitFor();
    const card = async (key: string) => page.textContent(`#card-${key} .value`);
    expect(await card('completed')).toBe(String(summary.outcomes.completed));
    expect(await card('no-answer')).toBe(String(summary.outcomes['no-answer']));
    expect(await card('busy')).toBe(String(summary.outcomes.busy));
    expect(await card('answer-rate')).toBe(`${(summary.calls.answerRate * 100).toFixed(1)}%`);
    expect(summary.outcomes.completed).toBe(2);
    const vapiCost = (await stack.get(`/api/calls/${vapiCallId}`)).json.cost;
    // Shown in dollars: to the cent, or to a tenth of a cent under a dollar.
    expect(await card('cost')).toMatch(/^\$\d+\.\d{2,3}$/);
    expect(Number((await card('cost'))!.slice(1))).toBeCloseTo(summary.cost.byCurrency[0].totalCents / 100, 3);
    expect(summary.cost.byCurrency[0].totalCents).toBeCloseTo(vapiCost.amountCents, 5);
    const list = await apiGet(page, '/api/calls', '&limit=50');
    await eventually(
      'the recent calls listed as the API lists them',
      async () => (await page.locator('#calls tbody tr[data-id]').count()) === list.items.length,
    );
    expect(await page.getAttribute('#n-calls', 'data-total')).toBe(String(list.total));
    const agents = await apiGet(page, '/api/analytics/agents');
    expect(await page.locator('#agents tbody tr').count()).toBe(agents.items.length);
    // Every chart drew something from the series.
    for (const id of ['chart-outcomes', 'chart-answer', 'chart-duration', 'chart-cost']) {
      expect(Number(await page.getAttribute(`#${id}`, 'data-points'))).toBeGreaterThan(0);
    }
    // The follow-up queue lists the no-answer's follow-up in the contact's zone (+1 312: Chicago).
    await page.waitForSelector(`#q-scheduled tbody tr:has-text("${missed}")`);
    expect(await page.textContent(`#q-scheduled tbody tr:has-text("${missed}")`)).toContain('America/Chicago');
    // Moved by the calling window (the UK call, in London's zone) and blocked by do-not-call.
    const movedRow = page.locator(`#q-moved tbody tr:has-text("${moved}")`);
    await movedRow.waitFor();
    expect(await movedRow.textContent()).toContain('Europe/London');
    expect(await movedRow.textContent()).toMatch(/moved to \d\d:\d\d Europe\/London/);
    const blockedRow = page.locator(`#q-blocked tbody tr:has-text("${blocked}")`);
    await blockedRow.waitFor();
    expect(await blockedRow.textContent()).toContain('the contact is on the do-not-call list (contact: asked by letter)');
    expect(await card('moved')).toBe(String(summary.followUps.movedByWindow));
    expect(await card('blocked')).toBe(String(summary.followUps.blockedByDoNotCall));
    expect(summary.followUps.blockedByDoNotCall).toBe(1);
    // The call that went silent is listed as stale, and counted as the API counts it.
    const staleRow = page.locator(`#q-stale tbody tr:has-text("${silent}")`);
    await staleRow.waitFor();
    expect(await staleRow.textContent()).toMatch(/ringing.*no event for 1[12]\d min/);
    expect(await card('stale')).toBe(String(summary.calls.stale));
    await shot(page, '02-dashboard');

    // It refreshes without a reload: with polling at 10 s a new call shows up on its own.
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.selectOption('#f-poll', '10');
    const late = uniqueId('c_dash_late');
    expect((await stack.post('/api/calls/webhook', generic(late, { duration: 30 }))).status).toBe(200);
    await page.waitForSelector(`#calls tbody tr[data-id="${late}"]`, { timeout: 20_000 });
    await page.locator('#card-total .value', { hasText: /^8$/ }).waitFor({ timeout: 15_000 });
    expect(navigations).toBe(0);

    // The provider filter narrows every figure and list to that platform, as the API does.
    await page.selectOption('#f-provider', 'vapi');
    await page.locator('body[data-query*="provider=vapi"]').waitFor({ state: 'attached' });
    const vapiOnly = await apiGet(page, '/api/analytics/summary');
    expect(vapiOnly.calls.total).toBe(1);
    await page.locator('#card-total .value', { hasText: /^1$/ }).waitFor();
    await eventually('the vapi call alone listed', async () => (await page.locator('#calls tbody tr[data-id]').count()) === 1);
    expect(await page.getAttribute('#calls tbody tr[data-id]', 'data-id')).toBe(vapiCallId);
    await page.selectOption('#f-provider', '');
    await page.locator('#card-total .value', { hasText: /^8$/ }).waitFor();
    // A date range without calls: nothing counted, nothing listed.
    const [from0, to0] = [await page.inputValue('#f-from'), await page.inputValue('#f-to')];
    await page.fill('#f-to', '2020-01-31');
    expect(await page.textContent('#banner')).toBe('The range is empty: "From" is after "To".');
    await page.fill('#f-from', '2020-01-01');
    await page.locator('body[data-query="from=2020-01-01&to=2020-02-01"]').waitFor({ state: 'attached' });
    expect((await apiGet(page, '/api/analytics/summary')).calls.total).toBe(0);
    await page.locator('#card-total .value', { hasText: /^0$/ }).waitFor();
    await page.waitForSelector('#calls td.empty');
    await page.fill('#f-from', from0);
    await page.fill('#f-to', to0);
    await page.locator('#banner').waitFor({ state: 'hidden' });
    await page.locator('#card-total .value', { hasText: /^8$/ }).waitFor();

    // A call's detail: timeline, transcript, recording, the workflow's link.
    const doneCall = (await stack.get(`/api/calls/${done}`)).json;
    await page.click(`#calls tbody tr[data-id="${done}"]`);
    await page.waitForSelector('#d-timeline tbody tr');
    expect(await page.textContent('#d-title')).toContain(done);
    expect(await page.textContent('#d-transcript')).toContain('Friday works.');
    expect(await page.getAttribute('#d-recording', 'href')).toBe('https://recordings.example/r1.mp3');
    expect(await page.getAttribute('#d-temporal', 'href')).toBe(doneCall.temporalUi);
    await shot(page, '03-call-detail', false);

    // Cancel the no-answer's follow-up from the page: the workflow's answer shows, and its state changes.
    await page.click('#d-close');
    await page.click(`#calls tbody tr[data-id="${missed}"]`);
    await page.waitForSelector('#d-cancel');
    await page.fill('#d-cancel-reason', 'reached by email');
    await page.click('#d-cancel');
    await page.waitForSelector('#d-answer.ok');
    expect(await page.textContent('#d-answer')).toMatch(/^Workflow: /);
    const missedCall = (await stack.get(`/api/calls/${missed}`)).json;
    const state = await stack.client.workflow
      .getHandle(missedCall.workflowId)
      .query<{ followUp?: { status: string; reason?: string } }>('getState');
    expect(state.followUp).toMatchObject({ status: 'canceled' });
    await eventually(
      'the call record showing the cancel',
      async () => (await stack.get(`/api/calls/${missed}`)).json.followUp?.status === 'canceled',
    );
    await page.waitForSelector('#d-followup-summary .b-canceled');
    // The queue behind the panel follows without a reload: the busy and the UK calls' follow-ups are left.
    await page.waitForSelector('#n-scheduled[data-count="2"]');
    expect(await page.locator(`#q-scheduled tbody tr:has-text("${missed}")`).count()).toBe(0);
    expect(navigations).toBe(0);
    await shot(page, '04-follow-up-canceled', false);
    // Again: the workflow refuses, and the page shows its words.
    await page.fill('#d-cancel-reason', 'once more');
    await page.click('#d-cancel');
    await page.waitForSelector('#d-answer.refused');
    expect(await page.textContent('#d-answer')).toMatch(/^409 Conflict: /);

    // Retry the busy call's follow-up now: with no dialer configured it becomes due for a person.
    await page.click('#d-close');
    await page.click(`#calls tbody tr[data-id="${busy}"]`);
    await page.waitForSelector('#d-retry');
    await page.click('#d-retry');
    await page.waitForSelector('#d-answer.ok');
    expect(await page.textContent('#d-answer')).toMatch(/^Workflow: /);
    await page.waitForSelector(`#q-due tbody tr:has-text("${busy}")`, { timeout: 20_000 });
    expect((await stack.get(`/api/follow-ups?status=due&callId=${busy}`)).json.total).toBe(1);
    // The open detail follows with the page's refresh, the workflow's answer kept.
    await page.waitForSelector('#d-followup-summary .b-due', { timeout: 20_000 });
    expect(await page.textContent('#d-answer')).toMatch(/^Workflow: /);
    await shot(page, '05-retried-now-due', false);

    // Schedule the UK call's follow-up from the page: the workflow answers and records who asked.
    await page.click('#d-close');
    await page.click(`#calls tbody tr[data-id="${moved}"]`);
    await page.waitForSelector('#d-schedule');
    await page.fill('#d-schedule-in', '3h');
    await page.click('#d-schedule');
    await page.waitForSelector('#d-answer.ok');
    expect(await page.textContent('#d-answer')).toMatch(/^Workflow: /);
    const history = (await stack.get(`/api/calls/${moved}`)).json.followUp.history as { event: string; by?: string }[];
    expect(history.some((h) => h.by?.startsWith('dashboard (key '))).toBe(true);

    // The session cookie is refused from another site, and without the CSRF token.
    const cookie = `calls_session=${session!.value}`;
    // The page and its files: a strict CSP (no inline script or eval), types, caching.
    const html = await fetch(`${stack.baseUrl}/dashboard`, { headers: { cookie }, redirect: 'manual' });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';/);
    expect(html.headers.get('content-security-policy')).not.toMatch(/unsafe/);
    expect(await html.text()).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son\w+=/);
    const js = await fetch(`${stack.baseUrl}/dashboard/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expect(
      (await fetch(`${stack.baseUrl}/dashboard/assets/app.js`, { headers: { 'if-none-match': js.headers.get('etag')! } })).status,
    ).toBe(304);
    const chartJs = await fetch(`${stack.baseUrl}/dashboard/vendor/chart.js@4.6.1/chart.umd.min.js`);
    expect(chartJs.status).toBe(200);
    expect(chartJs.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const token = ((await (await fetch(`${stack.baseUrl}/dashboard/session`, { headers: { cookie } })).json()) as { csrfToken: string })
      .csrfToken;
    expect(token).toMatch(/^[\w-]{20,}$/);
    const steer = (headers: Record<string, string>) =>
      fetch(`${stack.baseUrl}/api/calls/${done}/retry`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    const crossSite = await steer({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'x-csrf-token': token });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toEqual({ error: 'Forbidden', message: expect.stringMatching(/Cross-site request refused/) });
    const noToken = await steer({ origin: stack.baseUrl, 'sec-fetch-site': 'same-origin' });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { message: string }).message).toMatch(/CSRF token/);
    const sameSite = await steer({ origin: stack.baseUrl, 'sec-fetch-site': 'same-origin', 'x-csrf-token': token });
    expect(sameSite.status).toBe(409); // past the checks: the workflow's own answer (nothing to retry on a completed call)
    // An Origin alone (a browser without Sec-Fetch-Site) is checked too, before the token.
    const originOnly = await steer({ origin: 'https://evil.example', 'x-csrf-token': token });
    expect(originOnly.status).toBe(403);
    expect(((await originOnly.json()) as { message: string }).message).toBe(
      `Cross-site request refused: Origin https://evil.example is not this server (${stack.baseUrl})`,
    );
    expect((await steer({ origin: 'null', 'x-csrf-token': token })).status).toBe(403); // an opaque origin (sandboxed frame, data: page)
    const crossSignOut = await fetch(`${stack.baseUrl}/dashboard/sign-out`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'x-csrf-token': token },
    });
    expect(crossSignOut.status).toBe(403);
    expect(((await crossSignOut.json()) as { message: string }).message).toMatch(/Cross-site request refused/);

    // Sign out: back on the sign-in page, the cookie gone, the API no longer answers this browser.
    await page.click('#d-close');
    await Promise.all([page.waitForURL(/\/dashboard\/sign-in/), page.click('#sign-out')]);
    expect((await context.cookies()).find((c) => c.name === 'calls_session')).toBeUndefined();
    expect((await page.request.get(`${stack.baseUrl}/api/calls`)).status()).toBe(401);
    await page.goto(`${stack.baseUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');

    // The key never appeared in a URL the browser asked for.
    expect(urls.filter((u) => u.includes(stack.apiKey) || u.includes('ck_'))).toEqual([]);
    // Chrome logs every 4xx answer; the one expected here is the workflow's 409 to the second cancel.
    expect(consoleErrors.filter((e) => !e.includes('status of 409'))).toEqual([]);
    await context.close();
  }, 60_000);

  test('a read session sees everything and can steer nothing', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await signIn(context, readKey);
    await page.waitForSelector(`#calls tbody tr[data-id="${busy}"]`);
    await page.click(`#calls tbody tr[data-id="${busy}"]`);
    await page.waitForSelector('#d-timeline');
    expect(await page.locator('#d-retry').count()).toBe(0);
    expect(await page.textContent('#d-body')).toContain('need an admin key');
    // Even with the token and from the page's own origin, a read session cannot control.
    const r = await page.evaluate(async (callId) => {
      const s = (await (await fetch('/dashboard/session')).json()) as { csrfHeader: string; csrfToken: string };
      const res = await fetch(`/api/calls/${callId}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [s.csrfHeader]: s.csrfToken },
        body: '{}',
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    }, busy);
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/scope \(read\)/);
    await shot(page, '06-read-session', false);
    // Revoking the key ends its sessions too (the key is re-checked every few seconds).
    const keyId = readKey.split('_')[1];
    expect(await revokeApiKey(stack.store.col, keyId)).toBe(true);
    await eventually(
      "the revoked key's session refused",
      async () => (await page.request.get(`${stack.baseUrl}/api/calls`)).status() === 401,
      10_000,
    );
    await context.close();
  }, 30_000);
  test("the Inbox panel lists a dead letter with its reason and replays it; a call's detail shows what the platform sent", async () => {
    const callId = uniqueId('c_dash_dead');
    await deadLetteredCompletion(stack.store.col, stack.orgId, callId, 7, 'INVALID_ARGUMENT: refused for the dashboard test');

    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await signIn(context, stack.apiKey);
    const row = page.locator('#inbox-dead tbody tr', { hasText: 'refused for the dashboard test' });
    await row.waitFor();
    expect(await page.getAttribute('#inbox-stats [data-dead]', 'data-dead')).toBe('1');
    await shot(page, '07-inbox-dead-letter', false);
    await row.locator('button[data-replay]').click();
    await row.locator('button', { hasText: 'Replayed' }).waitFor();
    await eventually('the replayed call recorded', async () => (await stack.get(`/api/calls/${callId}`)).json?.durationSec === 7);
    await page.click('#refresh');
    await page.locator('#inbox-dead td.empty').waitFor({ timeout: 15_000 });

    // What the platform sent for a seeded call: the raw body and the canonical event, opened on demand.
    await page.click(`#calls tbody tr[data-id="${done}"]`);
    const sent = page.locator('#d-sent details.sent').first();
    await sent.waitFor();
    await sent.locator('summary').click();
    await sent.locator('pre.raw').waitFor();
    expect(await sent.locator('pre.raw').textContent()).toContain('Friday works.');
    expect(JSON.parse((await sent.locator('pre.canonical').textContent()) ?? '{}')).toMatchObject({ callId: done, type: 'call.completed' });
    await shot(page, '08-what-the-platform-sent', false);
    await context.close();
  }, 60_000);
});
