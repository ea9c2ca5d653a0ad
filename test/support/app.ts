// The receiver's app for tests of its routes that need no Temporal: a signaler and a dispatcher
// that accept and do nothing, a silent logger. A test overrides what it exercises.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../src/http/app';
import { silentLogger } from '../../src/observability/log';

export function stubbedApp(col: AppDeps['col'], over: Partial<AppDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    col,
    signaler: { deliver: async () => ({ workflowId: '' }), ping: async () => undefined },
    dispatcher: {
      offer: () => undefined,
      status: () => ({ temporalDown: null, inFlight: 0, queued: 0 }),
    } as unknown as AppDeps['dispatcher'],
    logger: silentLogger,
    pingDb: async () => undefined,
    bodyLimitBytes: 1_000_000,
    temporalUiUrl: 'http://localhost:8233',
    temporalNamespace: 'default',
    ...over,
  });
}

/** The app on a free loopback port: the server (to close) and its base URL. */
export async function serve(app: ReturnType<typeof createApp>): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
