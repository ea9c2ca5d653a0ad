// Prints `N passed, M failed` (plus `, K skipped` when K > 0) as the run's very last line.
// jest adds its own summary reporter after custom ones and runs globalTeardown after reporters,
// so the line is written when the process exits, after everything else (including the
// "Force exiting Jest" notice). A test file that fails to run at all (syntax error, failing
// import) has no tests to count, so it counts as one failure: the line must never read green then.
// JEST_SUMMARY_FILE=path also writes the line there (.ci/run repeats it after make's own output).
const fs = require('node:fs');

class SummaryReporter {
  constructor(globalConfig) {
    this.watching = Boolean(globalConfig.watch || globalConfig.watchAll);
    this.line = null;
  }

  onRunComplete(_testContexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
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

module.exports = SummaryReporter;
