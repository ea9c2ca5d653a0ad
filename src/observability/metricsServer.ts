// GET /metrics on a small HTTP server of its own, for the worker (which serves nothing else).
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './log';

/**
 * GET /metrics on its own small HTTP server (the worker has no other). A port in use (a second
 * worker on the same host) is logged and skipped: metrics must never stop the worker.
 */
export function serveMetrics(registry: Registry, port: number, host: string, logger: Logger): Promise<http.Server | null> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'Not Found', message: 'Only GET /metrics is served here' }));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}`),
    );
  });
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      logger.warn('metrics endpoint not started', { port, host, error: err.code ?? err.message });
      resolve(null);
    });
    server.listen(port, host, () => {
      const addr = server.address();
      logger.info('metrics endpoint listening', { url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/metrics` });
      resolve(server);
    });
  });
}
