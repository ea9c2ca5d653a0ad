// Reads the request body as raw bytes, before any parser: signatures are computed over exactly
// these bytes.
import type { IncomingMessage } from 'node:http';
import { bodyBudgetFull, holdBodyBytes } from './bodyBudget';
import { HttpError } from './errors';

export function tooLarge(limit: number): HttpError {
  const mb = limit / 1024 / 1024;
  return new HttpError(
    413,
    'Payload Too Large',
    `Request body exceeds the ${mb >= 1 ? `${Number(mb.toFixed(1))} MB` : `${limit} byte`} limit`,
  );
}

/**
 * Collects the body up to `limit` bytes. Past the limit, or when the process holds too many large
 * bodies (src/http/bodyBudget.ts), it stops buffering but keeps reading, so the client still
 * receives the 413 or 503 instead of a reset connection.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length']);
    let over = declared > limit;
    // A declared length is held at once: a body that cannot fit is refused before it is buffered.
    let busy = !over && Number.isFinite(declared) && !holdBodyBytes(req, declared);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over && !busy && !holdBodyBytes(req, size)) busy = true;
      if (over || busy) chunks = [];
      else chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge(limit)) : busy ? reject(bodyBudgetFull()) : resolve(Buffer.concat(chunks, size))));
    req.on('error', (err) => reject(new HttpError(400, 'Bad Request', `Could not read the request body: ${err.message}`)));
  });
}
