// Reads the request body as raw bytes, before any parser: signatures are computed over exactly
// these bytes.
import type { IncomingMessage } from 'node:http';
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
 * Collects the body up to `limit` bytes. Past the limit it stops buffering but keeps reading,
 * so the client still receives the 413 instead of a reset connection.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length']) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks, size))));
    req.on('error', (err) => reject(new HttpError(400, 'Bad Request', `Could not read the request body: ${err.message}`)));
  });
}
