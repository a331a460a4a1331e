// Prints the run's closing line in the plain form CI reads ("N passed, N failed, N skipped"),
// after Jest's own summary.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    // Jest's own summary is on stderr; the line goes to both streams so it is last in either.
    process.stderr.write(line);
    process.stdout.write(line);
  }
}
