import type { IncomingMessage } from 'node:http';

/**
 * What passport needs of a strategy: a `name` and `authenticate`. passport adds `success`,
 * `fail` and `error` to the strategy while `authenticate` runs and never checks its class, so
 * the package's strategies extend this rather than passport-strategy's class: the published
 * types then stay free of passport's (`@types/passport` brings `@types/express` and more into
 * every consumer's type-check), and passport stays an optional peer.
 */
export abstract class PassportStrategy {
  /** The name `passport.authenticate()` knows the strategy by. */
  name?: string;

  /** Ends in exactly one of passport's `success`, `fail` or `error`. */
  abstract authenticate(req: IncomingMessage, options?: object): void;
}
