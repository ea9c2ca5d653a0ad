// Acks first: the receiver counts webhooks it has received and not yet answered, so the inbox's
// hand-off to Temporal (same event loop) can step back while a burst waits for its 200s.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const WEBHOOK_PATH = '/api/calls/webhook';

/** Counts the server's webhook requests in flight; the returned function says whether any wait. */
export function trackAcking(server: Server): () => boolean {
  let inFlight = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !req.url?.startsWith(WEBHOOK_PATH)) return;
    inFlight++;
    // 'close' follows the answer or a dropped connection, each exactly once.
    res.once('close', () => inFlight--);
  });
  return () => inFlight > 0;
}
