import { escapeControlCharacters } from './control-characters.js';
import { KubeletAuthError } from './errors.js';
import { checkKnownKeys, optionNames } from './option-errors.js';

/** A logger's levels, from the most to the least severe. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/**
 * Where the package reports what it does not answer to the client. Each method takes one
 * message string, so `console`, a pino logger and a winston logger are loggers as they are.
 *
 * - `error`: a request answered 500 (an authorizer's error, an attributes function that threw,
 *   identity headers that cannot be written), or an authentication that threw.
 * - `warn`: something needs attention though every request was answered as configured: a
 *   TokenReview that failed, a stale answer served, a CA bundle that could not be reloaded or
 *   watched, an `onDecision` listener that threw.
 * - `info`: a client CA bundle reloaded.
 * - `debug`: routine refusals the client already sees as 401 or 403: a refused token or
 *   certificate, an anonymous request refused, a forbidden request.
 *
 * Only `warn` is required, so a logger written before levels keeps working: without `error`,
 * errors go to `warn`; without `info` or `debug`, those lines are dropped. Messages never carry
 * tokens, keys or certificates; user names and paths quoted in them have their control
 * characters escaped.
 */
export interface Logger {
  error?(message: string): void;
  warn(message: string): void;
  info?(message: string): void;
  debug?(message: string): void;
}

const drop = (): void => undefined;

/** A logger that drops everything (tests, or apps that rely on metrics and `onDecision`). */
export const silentLogger: Required<Logger> = { error: drop, warn: drop, info: drop, debug: drop };

/**
 * `logger` with messages below `level` dropped: for a logger without levels of its own, such as
 * `console`. Throws `ERR_INVALID_OPTION` for an unknown level.
 *
 * @example kubeletAuth({ nodeName, kubeConfig, logger: withLevel(console, 'info') })
 */
export function withLevel(logger: Logger, level: LogLevel): Required<Logger> {
  const full = levelled(logger);
  const rank = LEVELS.indexOf(level);
  if (rank < 0) {
    throw new KubeletAuthError(
      'ERR_INVALID_OPTION',
      `level: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
  const on = (at: LogLevel): boolean => LEVELS.indexOf(at) <= rank;
  return {
    error: (message) => full.error(message),
    warn: on('warn') ? (message) => full.warn(message) : drop,
    info: on('info') ? (message) => full.info(message) : drop,
    debug: on('debug') ? (message) => full.debug(message) : drop,
  };
}

/** Options of {@link createStderrLogger}. */
export interface StderrLoggerOptions {
  /** The least severe level written. Default: `'warn'`. */
  level?: LogLevel;
}

/**
 * A logger writing one line per message on standard error, `express-kubelet-auth: <level>:
 * <message>`, for messages at `level` or more severe. Control characters are escaped, so none
 * reaches the terminal and a message stays one line.
 *
 * @example kubeletAuth({ nodeName, kubeConfig, logger: createStderrLogger({ level: 'debug' }) })
 */
export function createStderrLogger(options: StderrLoggerOptions = {}): Required<Logger> {
  checkKnownKeys('createStderrLogger', options, optionNames<StderrLoggerOptions>({ level: true }));
  const line = (level: LogLevel) => (message: string) => {
    process.stderr.write(`express-kubelet-auth: ${level}: ${escapeControlCharacters(message)}\n`);
  };
  const all = {
    error: line('error'),
    warn: line('warn'),
    info: line('info'),
    debug: line('debug'),
  };
  return withLevel(all, options.level ?? 'warn');
}

/** The default: {@link createStderrLogger} at level `warn` (routine refusals are not written). */
export const stderrLogger: Required<Logger> = createStderrLogger();

/**
 * The logger an option names, with every level: the default when none is given; missing
 * methods as {@link Logger} says. Methods are called on the given object, as pino's and
 * winston's need. Throws `ERR_INVALID_OPTION` for something that has no `warn` method.
 */
export function levelled(logger: Logger | undefined): Required<Logger> {
  if (logger === undefined || logger === null) return stderrLogger;
  if (typeof logger.warn !== 'function') {
    throw new KubeletAuthError(
      'ERR_INVALID_OPTION',
      'logger: expected a logger with a warn(message) method, such as console or a pino or winston logger',
    );
  }
  const has = (level: LogLevel): boolean => typeof logger[level] === 'function';
  if (has('error') && has('info') && has('debug')) return logger as Required<Logger>;
  return {
    error: has('error') ? (message) => logger.error?.(message) : (message) => logger.warn(message),
    warn: (message) => logger.warn(message),
    info: has('info') ? (message) => logger.info?.(message) : drop,
    debug: has('debug') ? (message) => logger.debug?.(message) : drop,
  };
}
