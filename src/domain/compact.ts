// Helpers that drop what was not said from an object, for the domain, the provider adapters and the dialer.

/** A copy without the undefined keys, so stored and compared objects hold only what was said. */
export function compact<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** A copy without undefined, null or empty-string values: request bodies to platforms that refuse blanks. */
export function withoutBlanks<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') (out as Record<string, unknown>)[k] = v;
  return out;
}
