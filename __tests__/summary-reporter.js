// Prints the run's closing line in the plain form CI reads ("N passed, N failed, N skipped"),
// after Jest's own summary. A test file that failed outside its tests (an afterAll check, an
// import error) counts as one failure, so the line never says "0 failed" for a red run.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const brokenFiles = results.testResults.filter(
      (file) => (file.testExecError || file.failureMessage) && file.numFailingTests === 0,
    ).length;
    const failed = results.numFailedTests + brokenFiles;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    // Jest's own summary is on stderr; the line goes to both streams so it is last in either.
    process.stderr.write(line);
    process.stdout.write(line);
  }
}
