// One helper the domain and the provider adapters share.

/** A copy without the undefined keys, so stored and compared objects hold only what was said. */
export function compact<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
