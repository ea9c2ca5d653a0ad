// Cost per call: each platform's documented field, in one unit (hundredths of the currency), on
// the call record through the reducer; and where the opt-out field is looked up.
import { costFromRetell, costFromUnits, saneCost } from '../../../src/domain/cost';
import { initialState, reduce } from '../../../src/domain/reducer';
import type { CallEvent } from '../../../src/domain/events';
import { parseBody } from '../../../src/providers';
import { retell } from '../../../src/providers/retell';
import { twilio } from '../../../src/providers/twilio';
import { optOutValue, isTruthy } from '../../../activities/compliance';
import { fixtureReq, makeReq } from '../providers/helpers';

test('Retell call_cost is in cents already: combined_cost and each product', () => {
  const r = fixtureReq('retell/call-ended.json');
  const [e] = retell.parse(r, parseBody(r));
  expect(e.cost).toEqual({ amountCents: 21.4, currency: 'USD', source: 'retell.call_cost.combined_cost' });
  expect(
    costFromRetell({
      combined_cost: 70,
      product_costs: [
        { product: 'elevenlabs_tts', unit_price: 0.1, cost: 60 },
        { product: 'gpt_4o', cost: 10 },
      ],
    }),
  ).toEqual({ amountCents: 70, currency: 'USD', source: 'retell.call_cost.combined_cost', breakdown: { elevenlabs_tts: 60, gpt_4o: 10 } });
  expect(costFromRetell({ total_duration_seconds: 3 })).toBeUndefined();
});

test("Twilio's Price is a negative decimal string with PriceUnit: kept as its size, in cents, in that currency", () => {
  const body =
    'CallSid=CA1234567890abcdef1234567890abcdef&CallStatus=completed&CallDuration=42&Price=-0.01750&PriceUnit=EUR&From=%2B14155550100&To=%2B14155550101&Direction=outbound-api&SequenceNumber=3';
  const r = makeReq(body, { contentType: 'application/x-www-form-urlencoded' });
  const [e] = twilio.parse(r, parseBody(r));
  expect(e.cost).toEqual({ amountCents: 1.75, currency: 'EUR', source: 'twilio.Price' });
  // Without a price (Twilio's status callbacks usually carry none) there is no cost.
  const r2 = makeReq(body.replace(/&Price=[^&]*&PriceUnit=EUR/, ''), { contentType: 'application/x-www-form-urlencoded' });
  expect(twilio.parse(r2, parseBody(r2))[0].cost).toBeUndefined();
});

test('amounts in currency units become cents; junk is no cost', () => {
  expect(costFromUnits(0.0925, 'bland.price')).toEqual({ amountCents: 9.25, currency: 'USD', source: 'bland.price' });
  expect(costFromUnits('1.5', 'x', { currency: 'gbp', breakdown: { llm: 0.5, bad: 'x', 'no good': 1 } })).toEqual({
    amountCents: 150,
    currency: 'GBP',
    source: 'x',
    breakdown: { llm: 50 },
  });
  for (const v of [undefined, null, '', 'abc', NaN, Infinity, {}, 1e12]) expect(costFromUnits(v, 'x')).toBeUndefined();
  expect(saneCost({ amountCents: -1, currency: 'USD' })).toBeUndefined();
  expect(saneCost({ amountCents: 5, currency: 'usd', source: 'cli' })).toEqual({ amountCents: 5, currency: 'USD', source: 'cli' });
});

test('the reducer keeps the cost on the call, from the best-ranked event, and drops a malformed one', () => {
  const base = { provider: 'generic' as const, providerEvent: 'x', callId: 'c1', receivedAt: '2025-01-15T10:30:00Z' };
  const ended: CallEvent = {
    ...base,
    eventId: 'e1',
    type: 'call.completed',
    outcome: 'completed',
    cost: { amountCents: 12, currency: 'USD', source: 'vapi.cost' },
  };
  const s1 = reduce(initialState('o', 'c1', 'generic'), ended).state;
  expect(s1.cost).toEqual({ amountCents: 12, currency: 'USD', source: 'vapi.cost' });
  const bad = { ...base, eventId: 'e2', type: 'call.updated', cost: { amountCents: 'lots' } } as unknown as CallEvent;
  expect(reduce(s1, bad).state.cost).toEqual(s1.cost);
});

test('the opt-out field is found at the top, in Vapi structuredData, in Bland variables, or by a dotted path', () => {
  expect(optOutValue({ opt_out: true }, 'opt_out')).toBe(true);
  expect(optOutValue({ structuredData: { opt_out: 'yes' } }, 'opt_out')).toBe('yes');
  expect(optOutValue({ variables: { opt_out: 'true' } }, 'opt_out')).toBe('true');
  expect(optOutValue({ answers: { stop: 1 } }, 'answers.stop')).toBe(1);
  expect(optOutValue({ other: true }, 'opt_out')).toBeUndefined();
  expect([true, 'true', 'Yes', 1, '1'].every(isTruthy)).toBe(true);
  expect([false, 'false', 'no', 0, null, undefined, {}].some(isTruthy)).toBe(false);
});
