// Free-form platform data that the local database refuses (found by schemathesis): a call whose
// metadata holds it must still be saved, or its workflow would retry the save for ever.
import type { Store } from '../../src/store/db';
import { storableKeys } from '../../src/store/db';
import { getCall, saveCallState } from '../../src/store/calls';
import { initialState } from '../../src/domain/reducer';
import { testStore } from '../support/harness';

let store: Store;
beforeAll(async () => {
  store = await testStore('storable');
});
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const hostile = {
  nested: [-217, [], [-20396302, [1]]],
  'a.b': 1,
  $where: 'x',
  'nul\u0000key': 'nul\u0000value',
  huge: JSON.parse('1e999') as number,
  deep: JSON.parse(`${'{"d":'.repeat(30)}1${'}'.repeat(30)}`) as unknown,
};

test('storableKeys turns what the database refuses into what it takes, keeping the rest', () => {
  const out = storableKeys(hostile) as Record<string, unknown>;
  expect(out.nested).toEqual([-217, { items: [] }, { items: [-20396302, { items: [1] }] }]);
  expect(out['a\uff0eb']).toBe(1);
  expect(out['\uff04where']).toBe('x');
  expect(out.nulkey).toBe('nulvalue');
  expect(out.huge).toBeNull();
  expect(JSON.stringify(out.deep)).toContain('{\\"d\\":1}');
  expect(storableKeys({ when: new Date(0), n: 1.5, s: 'plain' })).toEqual({ when: new Date(0), n: 1.5, s: 'plain' });
});

test('a call whose metadata holds all of it is saved on the real database', async () => {
  const state = { ...initialState('org_s', 'call_s', 'generic'), eventCount: 1, status: 'completed' as const, metadata: hostile };
  expect(await saveCallState(store.col, state, 'call:org_s:call_s')).toBe('saved');
  const doc = await getCall(store.col, 'org_s', 'call_s');
  expect(doc?.status).toBe('completed');
  expect((doc?.metadata as Record<string, unknown>).nested).toEqual([-217, { items: [] }, { items: [-20396302, { items: [1] }] }]);
});
