// Acks first: the receiver counts webhooks it has received and whose events are not durable yet,
// so the inbox's hand-off to Temporal (same event loop) can step back while a burst waits for its
// inserts. A webhook whose event is in the inbox and whose answer waits for the hand-off
// (INBOX_ACK_HOLD) no longer counts: the hand-off stepping back would only hold it longer.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

const WEBHOOK_PATH = '/api/calls/webhook';
/** What markDurable tells the counter, on the request's response. */
const DURABLE = 'calls:durable';

/** The request's events are in the inbox: it no longer counts as waiting for its insert. */
export function markDurable(res: ServerResponse): void {
  res.emit(DURABLE);
}

/** Counts the server's webhook requests in flight before their insert; the returned function says whether any wait. */
export function trackAcking(server: Server): () => boolean {
  let inFlight = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !req.url?.startsWith(WEBHOOK_PATH)) return;
    inFlight++;
    let counted = true;
    const done = () => {
      if (counted) inFlight--;
      counted = false;
    };
    res.once(DURABLE, done);
    // 'close' follows the answer or a dropped connection, each exactly once.
    res.once('close', done);
  });
  return () => inFlight > 0;
}
