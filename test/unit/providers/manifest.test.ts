// Every fixture against its hand-written expectation in manifest.json: detection on the shared
// route, the events parse returns, and the call state those events reduce to.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialState, reduce } from '../../../src/domain/reducer';
import { PayloadError, adapters, detectProvider, parseBody } from '../../../src/providers';
import type { Provider } from '../../../src/domain/events';
import { FIXTURES, RECEIVED_AT, fixtureReq } from './helpers';

interface Expected {
  provider: Provider;
  callId?: string;
  events?: { type: string; outcome?: string; durationSec?: number }[];
  status?: string;
  outcome?: string;
  durationSec?: number;
  error?: { field: string };
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Record<string, Expected | string>;
const cases = Object.entries(manifest).filter(([k]) => !k.startsWith('$')) as [string, Expected][];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('fixture manifest', () => {
  it('covers a reasonable set of fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(70);
  });

  it.each(cases)('%s', (file, exp) => {
    const req = fixtureReq(file);
    const body = parseBody(req);
    expect(detectProvider(req, body)).toBe(exp.provider);
    const adapter = adapters[exp.provider];

    if (exp.error) {
      let thrown: unknown;
      try {
        adapter.parse(req, body);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(PayloadError);
      expect((thrown as PayloadError).field).toBe(exp.error.field);
      expect((thrown as PayloadError).message).toContain(exp.error.field);
      return;
    }

    const events = adapter.parse(req, body);
    expect(events.map((e) => e.type)).toEqual(exp.events!.map((e) => e.type));
    events.forEach((e, i) => {
      const want = exp.events![i];
      expect(e.provider).toBe(exp.provider);
      expect(e.callId).toBe(exp.callId);
      expect(e.receivedAt).toBe(RECEIVED_AT);
      expect(e.eventId.startsWith(`${exp.provider}:`)).toBe(true);
      if ('outcome' in want) expect(e.outcome).toBe(want.outcome);
      if ('durationSec' in want) expect(e.durationSec).toBe(want.durationSec);
      for (const t of [e.occurredAt, e.startedAt, e.endedAt]) if (t !== undefined) expect(t).toMatch(ISO);
      if (e.durationSec !== undefined) expect(Number.isInteger(e.durationSec)).toBe(true);
      for (const p of [e.from, e.to]) if (p !== undefined) expect(p).toMatch(/^\+[1-9]\d{7,14}$/);
    });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);

    const state = events.reduce((s, e) => reduce(s, e).state, initialState('org_1', exp.callId!, exp.provider));
    expect(state.status).toBe(exp.status);
    expect(state.outcome).toBe(exp.outcome);
    expect(state.durationSec).toBe(exp.durationSec);
  });

  it('is idempotent: parsing the same bytes twice gives the same event ids', () => {
    for (const [file, exp] of cases) {
      if (exp.error) continue;
      const ids = () => adapters[exp.provider].parse(fixtureReq(file), parseBody(fixtureReq(file))).map((e) => e.eventId);
      expect(ids()).toEqual(ids());
    }
  });
});
