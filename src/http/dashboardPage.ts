// The dashboard's page: one HTML file, plain JS modules and CSS from src/dashboard/, and chart.js
// from node_modules (no CDN), each with a Content-Security-Policy that allows scripts and styles
// from this origin only and an ETag. The page's data comes from the /api routes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { HttpError } from './errors';
import type { DashboardSessions } from './session';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const ASSET_DIR = join(__dirname, '..', 'dashboard');
const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
/** In the vendor URL, so a new chart.js version is a new URL and the old one may be cached for good. */
export const CHART_JS_VERSION = (JSON.parse(readFileSync(join(dirname(CHART_JS), '..', 'package.json'), 'utf8')) as { version: string })
  .version;
export const CHART_JS_PATH = `/dashboard/vendor/chart.js@${CHART_JS_VERSION}/chart.umd.min.js`;

/** The page's own files: name → content type. Anything else is a 404. */
export const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'detail.js': 'text/javascript; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'format.js': 'text/javascript; charset=utf-8',
  'signin.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

interface File {
  body: Buffer;
  etag: string;
}
const files = new Map<string, File>();
/** Read once per process: the files ship with the code. */
function file(path: string): File {
  let f = files.get(path);
  if (!f) {
    const body = readFileSync(path);
    f = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    files.set(path, f);
  }
  return f;
}

function pageHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Not no-referrer: with it Chrome sends `Origin: null` on the sign-in form's post.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
}

function serve(ctx: Context, path: string, type: string, cache: string): void {
  const f = file(path);
  pageHeaders(ctx);
  ctx.set('Cache-Control', cache);
  ctx.set('ETag', f.etag);
  ctx.type = type;
  if (ctx.get('if-none-match') === f.etag) {
    ctx.status = 304;
    return;
  }
  ctx.body = f.body;
}

const HTML = 'text/html; charset=utf-8';

/** The page (signed in), the sign-in page, the page's files and chart.js. */
export function dashboardPageRoutes(router: Router, sessions: DashboardSessions): void {
  router.get('/dashboard', async (ctx) => {
    if (!(await sessions.current(ctx))) {
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect('/dashboard/sign-in');
      return;
    }
    serve(ctx, join(ASSET_DIR, 'index.html'), HTML, 'no-cache');
  });

  router.get('/dashboard/sign-in', (ctx) => {
    serve(ctx, join(ASSET_DIR, 'signin.html'), HTML, 'no-cache');
  });

  router.get('/dashboard/assets/:file', (ctx) => {
    const type = Object.hasOwn(ASSETS, ctx.params.file) ? ASSETS[ctx.params.file] : undefined;
    if (!type) throw new HttpError(404, 'Not Found', `No dashboard asset ${ctx.params.file}`);
    serve(ctx, join(ASSET_DIR, ctx.params.file), type, 'no-cache');
  });

  router.get(CHART_JS_PATH, (ctx) => {
    serve(ctx, CHART_JS, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable');
  });
}
