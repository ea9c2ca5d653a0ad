// What a call cost, as the platforms report it, in one unit: hundredths of the currency (US
// cents for USD), possibly fractional, with the currency kept. Pure: providers build it, the
// reducer keeps it on the call.

export interface CallCost {
  /** Hundredths of `currency` (cents for USD); may have decimals (4.25 = 4¼ cents). */
  amountCents: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** The platform's parts (transport, stt, llm, tts, ... or Retell's products), in the same unit. */
  breakdown?: Record<string, number>;
  /** Where it came from, e.g. `vapi.cost`, `retell.call_cost.combined_cost`, `twilio.Price`. */
  source: string;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function amount(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  // A charge is sometimes reported negative (Twilio's Price): the cost is its size.
  return Number.isFinite(n) && Math.abs(n) < 1e9 ? Math.abs(n) : undefined;
}

const currencyOf = (v: unknown): string => (typeof v === 'string' && /^[A-Za-z]{3}$/.test(v.trim()) ? v.trim().toUpperCase() : 'USD');

function parts(b: unknown, scale: number): Record<string, number> | undefined {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b as Record<string, unknown>).slice(0, 50)) {
    const n = typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    if (n !== undefined && /^[A-Za-z][\w-]{0,63}$/.test(k)) out[k] = round(n * scale);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A cost given in whole currency units (Vapi `cost` and `costBreakdown`, Bland `price`, Twilio `Price`). */
export function costFromUnits(
  value: unknown,
  source: string,
  opts: { currency?: unknown; breakdown?: unknown } = {},
): CallCost | undefined {
  const a = amount(value);
  if (a === undefined) return undefined;
  const breakdown = parts(opts.breakdown, 100);
  return { amountCents: round(a * 100), currency: currencyOf(opts.currency), ...(breakdown && { breakdown }), source };
}

/** Retell's `call_cost`: `combined_cost` and each product's `cost` are already in cents (USD). */
export function costFromRetell(callCost: unknown): CallCost | undefined {
  if (!callCost || typeof callCost !== 'object') return undefined;
  const c = callCost as { combined_cost?: unknown; product_costs?: unknown };
  const a = amount(c.combined_cost);
  if (a === undefined) return undefined;
  const products: Record<string, number> = {};
  if (Array.isArray(c.product_costs)) {
    for (const p of c.product_costs.slice(0, 50)) {
      const name = (p as { product?: unknown })?.product;
      const cost = amount((p as { cost?: unknown })?.cost);
      if (typeof name === 'string' && /^[\w .-]{1,64}$/.test(name) && cost !== undefined) products[name] = round(cost);
    }
  }
  return {
    amountCents: round(a),
    currency: 'USD',
    ...(Object.keys(products).length > 0 && { breakdown: products }),
    source: 'retell.call_cost.combined_cost',
  };
}

/** A cost from an untrusted event (a CLI signal): kept only when its shape is right. */
export function saneCost(c: unknown): CallCost | undefined {
  if (!c || typeof c !== 'object') return undefined;
  const x = c as Partial<CallCost>;
  if (typeof x.amountCents !== 'number' || !Number.isFinite(x.amountCents) || x.amountCents < 0) return undefined;
  return {
    amountCents: x.amountCents,
    currency: currencyOf(x.currency),
    ...(x.breakdown && { breakdown: parts(x.breakdown, 1) }),
    source: typeof x.source === 'string' ? x.source.slice(0, 100) : 'unknown',
  };
}
