// Bounds on what a webhook may carry into a workflow id, a search attribute or a Temporal payload.
// Pure: the receiver validates with them and the reducer re-checks what a CLI signal hands it.

/** Identifiers (call, contact, agent, event ids) go into workflow ids and keyword search attributes (2 KB a value). */
export const MAX_ID_LENGTH = 200;

/** Event times further ahead of receipt than this are clamped: a clock a little fast is normal, 9999-01-01 is not. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why a string cannot be an identifier, or undefined when it can. */
export function idProblem(v: string): string | undefined {
  if (v.length > MAX_ID_LENGTH) return `at most ${MAX_ID_LENGTH} characters, received ${v.length}`;
  if (CONTROL.test(v)) return 'no control characters';
  return undefined;
}

export const isSafeId = (v: unknown): v is string => typeof v === 'string' && v !== '' && idProblem(v) === undefined;

/** An ISO time no later than `receivedAt` plus the allowed skew; other values pass unchanged. */
export function clampFuture(iso: string | undefined, receivedAt: string): string | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  const limit = Date.parse(receivedAt) + MAX_FUTURE_SKEW_MS;
  if (!Number.isFinite(t) || !Number.isFinite(limit) || t <= limit) return iso;
  return new Date(limit).toISOString();
}

/** Own-property lookup: a platform's value can never reach Object.prototype (`__proto__`, `constructor`). */
export function lookup<V>(table: Readonly<Record<string, V>>, key: string | undefined | null): V | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

export interface JsonBounds {
  maxDepth: number;
  maxKeys: number;
  maxStringLength: number;
}
export const METADATA_BOUNDS: JsonBounds = { maxDepth: 12, maxKeys: 2_000, maxStringLength: 20_000 };

/**
 * A copy of free JSON from a platform (metadata, analysis data) that every store accepts: no
 * `__proto__` keys, no `$`-leading or dotted keys (MongoDB refuses or misreads them; they are
 * kept with `_` in place), nesting and size bounded (deeper or further parts are dropped, long
 * strings cut). Returns undefined for an empty result.
 */
export function boundJson(value: unknown, bounds: JsonBounds = METADATA_BOUNDS): Record<string, unknown> | undefined {
  let keys = 0;
  const copy = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return v.length > bounds.maxStringLength ? v.slice(0, bounds.maxStringLength) : v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'boolean' || v === null) return v;
    if (typeof v !== 'object' || depth >= bounds.maxDepth) return undefined;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const x of v) {
        if (++keys > bounds.maxKeys) break;
        const c = copy(x, depth + 1);
        if (c !== undefined) out.push(c);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (++keys > bounds.maxKeys) break;
      const key = k
        .replace(/^\$/, '_')
        .replace(/\./g, '_')
        .replace(/\u0000/g, '')
        .slice(0, MAX_ID_LENGTH);
      if (key === '__proto__' || key === '') continue;
      const c = copy(x, depth + 1);
      if (c === undefined) continue;
      Object.defineProperty(out, key, { value: c, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const r = copy(value, 0);
  return r !== null && typeof r === 'object' && !Array.isArray(r) && Object.keys(r).length > 0 ? (r as Record<string, unknown>) : undefined;
}
