import { escapeControlCharacters } from './control-characters.js';

/**
 * Where the package reports what it does not answer to the client (why a request got 401 or
 * 500, a CA bundle that failed to reload). Lines never carry credentials.
 */
export interface Logger {
  warn(message: string): void;
}

/**
 * The default: one line on standard error, prefixed so it can be found among an app's logs.
 * Messages may quote a request (a user name, a path): control characters are escaped, so none
 * reaches the terminal and a message stays one line.
 */
export const stderrLogger: Logger = {
  warn(message: string): void {
    process.stderr.write(`express-kubelet-auth: ${escapeControlCharacters(message)}\n`);
  },
};

/** A logger that drops everything (tests, or apps that only want metrics). */
export const silentLogger: Logger = { warn: () => undefined };
