// Organization ids end up in workflow ids and search attributes: only a safe alphabet passes.
import { isValidOrgId, newOrgId } from '../../../src/store/organizations';

test.each([
  ['org_dev', true],
  ['acme-prod_1', true],
  [newOrgId(), true],
  ['a', true],
  ['x'.repeat(64), true],
  ['Acme', false],
  ['org:x', false],
  ['a b', false],
  ['x'.repeat(65), false],
  ['-lead', false],
  ['é', false],
  ['', false],
  ['a\n', false],
])('%j valid: %s', (id, ok) => {
  expect(isValidOrgId(id)).toBe(ok);
});
