/**
 * A start-up problem the user must fix (bad flag, unreadable file, impossible combination).
 * `main` prints its message as one line and exits non-zero: no stack trace, because the
 * mistake is in the command line, not in the program.
 */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The error for a value that cannot be used, worded like
 * `invalid value "abc" for flag --port: must be between 1 and 65535, inclusive`.
 * `setting` names where the value came from (`flag --port`, or a config file field).
 */
export function invalidValue(setting: string, value: string, reason: string): CliError {
  return new CliError(`invalid value ${JSON.stringify(value)} for ${setting}: ${reason}`);
}
