// Prints `N passed, M failed` (plus `, K skipped` when K > 0) as the run's very last line.
// jest adds its own summary reporter after custom ones and runs globalTeardown after reporters,
// so the line is written when the process exits, after everything else (including the
// "Force exiting Jest" notice). A test file that fails to run at all (syntax error, failing
// import) has no tests to count, so it counts as one failure: the line must never read green then.
// JEST_SUMMARY_FILE=path also writes the line there (.ci/run repeats it after make's own output).
// JEST_SUMMARY_PRIOR=path names an earlier pass's line (scripts/test-passes.sh): its counts are added in,
// so the last line covers every pass of `make test`.
const fs = require('node:fs');

class SummaryReporter {
  constructor(globalConfig) {
    this.watching = Boolean(globalConfig.watch || globalConfig.watchAll);
    this.line = null;
  }

  onRunComplete(_testContexts, results) {
    const prior = priorCounts();
    const passed = results.numPassedTests + prior.passed;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites + prior.failed;
    const skipped = results.numPendingTests + results.numTodoTests + prior.skipped;
    const first = this.line === null;
    this.line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    if (process.env.JEST_SUMMARY_FILE) fs.writeFileSync(process.env.JEST_SUMMARY_FILE, `${this.line}\n`);
    if (this.watching) {
      process.stdout.write(`${this.line}\n`);
    } else if (first) {
      process.once('exit', () => fs.writeSync(1, `${this.line}\n`));
    }
  }
}

/** The counts of JEST_SUMMARY_PRIOR's line; a named file that cannot be read or parsed counts as one failure. */
function priorCounts() {
  const file = process.env.JEST_SUMMARY_PRIOR;
  if (!file) return { passed: 0, failed: 0, skipped: 0 };
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // counted below
  }
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(text);
  if (!m) return { passed: 0, failed: 1, skipped: 0 };
  return { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) };
}

module.exports = SummaryReporter;
