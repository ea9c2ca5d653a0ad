// Durations as people write them (`30s`, `10m`, `2h`, `1d`, `500ms`): the configuration's
// variables, a schedule request's `in` and a CLI's `--in` all read them with this one function.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A delay with its unit, as a request body must give it (`30m`, `2h`, `1d`, `1.5h`). */
export const DELAY_PATTERN = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/;

/**
 * `90s`, `10m`, `2h`, `1d`, `500ms` → milliseconds; a bare number is milliseconds unless
 * `unitRequired`. Undefined when the text is not such a duration.
 */
export function parseDuration(text: string, opts: { unitRequired?: boolean } = {}): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m || (opts.unitRequired && m[2] === undefined)) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']);
}
