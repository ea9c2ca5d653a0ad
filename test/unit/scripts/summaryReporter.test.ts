// The `N passed, M failed` line of `make test` adds up both jest passes (scripts/test-passes.sh): the
// second pass's reporter reads the first pass's line from JEST_SUMMARY_PRIOR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SummaryReporter = require('../../support/summaryReporter.js') as new (config: object) => {
  onRunComplete(contexts: unknown, results: object): void;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-'));
const out = path.join(dir, 'summary');
const results = { numPassedTests: 7, numFailedTests: 1, numRuntimeErrorTestSuites: 1, numPendingTests: 2, numTodoTests: 0 };

function lineWith(prior: string | null): string {
  const saved = { ...process.env };
  process.env.JEST_SUMMARY_FILE = out;
  if (prior === null) delete process.env.JEST_SUMMARY_PRIOR;
  else process.env.JEST_SUMMARY_PRIOR = prior;
  // Watch mode prints at once instead of at exit, so nothing is left for this test process's exit.
  const once = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    new SummaryReporter({ watch: true }).onRunComplete([], results);
  } finally {
    once.mockRestore();
    process.env = saved;
  }
  return fs.readFileSync(out, 'utf8').trim();
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('one pass: its own counts (a suite that failed to run counts as a failure)', () => {
  expect(lineWith(null)).toBe('7 passed, 2 failed, 2 skipped');
});

test("the second pass adds the first pass's line", () => {
  const prior = path.join(dir, 'prior');
  fs.writeFileSync(prior, '1200 passed, 0 failed, 4 skipped\n');
  expect(lineWith(prior)).toBe('1207 passed, 2 failed, 6 skipped');
  fs.writeFileSync(prior, '30 passed, 3 failed\n');
  expect(lineWith(prior)).toBe('37 passed, 5 failed, 2 skipped');
});

test('a first pass that left no line counts as one more failure, never as green', () => {
  const prior = path.join(dir, 'empty');
  fs.writeFileSync(prior, '');
  expect(lineWith(prior)).toBe('7 passed, 3 failed, 2 skipped');
  expect(lineWith(path.join(dir, 'missing'))).toBe('7 passed, 3 failed, 2 skipped');
});
