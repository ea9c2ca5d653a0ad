// zod → the spec's 400 bodies: the first problem, naming the field and what was expected.
import type { z } from 'zod';
import { HttpError } from './errors';

export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.') || 'body';
  if (issue.code === 'invalid_type') {
    const received = (issue as { input?: unknown }).input;
    if (received === undefined) return `Missing required field: ${field}`;
    return `Invalid field: ${field} (expected ${issue.expected}, received ${received === null ? 'null' : Array.isArray(received) ? 'array' : typeof received})`;
  }
  if (issue.code === 'unrecognized_keys') return `Unknown field: ${issue.keys.join(', ')}`;
  return `Invalid field: ${field} (${issue.message})`;
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, error: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new HttpError(400, error, describeIssue(r.error.issues[0]));
}
