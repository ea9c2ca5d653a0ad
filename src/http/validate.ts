// zod → the spec's 400 bodies: the first problem, naming the field and what was expected.
import type { z } from 'zod';
import { idProblem } from '../domain/limits';
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

/** An identifier from the URL path, checked as webhook identifiers are: a 400 naming it, never a database error. */
export function pathId(value: string, name: string): string {
  const problem = value === '' ? 'must not be empty' : idProblem(value);
  if (problem) throw new HttpError(400, 'Bad Request', `Invalid path parameter: ${name} (${problem})`);
  return value;
}

/** A refinement for identifier query parameters and body fields. */
export const isIdentifier = (v: string): boolean => v !== '' && idProblem(v) === undefined;
