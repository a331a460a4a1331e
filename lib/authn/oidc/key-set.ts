import type { JWTVerifyGetKey } from 'jose';
import { KubeletAuthError } from '../../errors.js';
import type { Jose } from './jose.js';
import { SharedFetch, type RetryPolicy } from './shared-fetch.js';

/** How {@link IssuerKeys} fetches and keeps the issuer's keys. */
export interface IssuerKeysOptions {
  jose: Jose;
  /** Fetches the key set document (discovery first, the first time). */
  fetchKeySet: () => Promise<unknown>;
  now: () => number;
  /** Least time between two fetches caused by unknown key IDs, in ms. */
  cooldownMs: number;
  /** Age after which the keys are fetched again in the background, in ms. */
  maxAgeMs: number;
  retry: RetryPolicy;
  /** Told when a background refresh failed (the keys in hand stay in use). */
  onRefreshFailed: (error: unknown) => void;
}

/**
 * The issuer's signing keys (JWKS), parsed and selected by jose's `createLocalJWKSet`, fetched
 * when first needed and kept:
 * - a token whose key ID is unknown makes the set be fetched again once, then is checked again
 *   (keys rotated at the issuer); such fetches are at most one per cooldown, so forged key IDs
 *   cannot make the issuer be asked on every request;
 * - keys older than the maximum age are fetched again in the background, while the ones in hand
 *   keep serving, also when the issuer cannot be reached;
 * - with no keys in hand, a token waits for the (shared) fetch, and fails when it fails.
 * {@link IssuerKeys.getKey} is what jose's `jwtVerify` calls for a token's key.
 */
export class IssuerKeys {
  private keys: JWTVerifyGetKey | undefined;
  private fetchedAt = 0;
  private unknownKeyFetchAt = -Infinity;
  private readonly fetch: SharedFetch<void>;

  constructor(private readonly options: IssuerKeysOptions) {
    this.fetch = new SharedFetch(() => this.load(), options.now, options.retry);
  }

  /** Fetches the keys now, unless a fetch is running or failures are being waited out. */
  refresh(): Promise<void> {
    return this.fetch.run();
  }

  /** Fetches discovery and the keys at start-up, before any token asks. */
  prefetch(): Promise<void> {
    return this.fetch.prefetch();
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const { now, maxAgeMs, cooldownMs } = this.options;
    if (this.keys === undefined) await this.refresh();
    else if (now() - this.fetchedAt >= maxAgeMs && !this.fetch.running && !this.fetch.waiting) {
      // In the background: one attempt (and one report of its failure) at a time.
      this.refresh().catch(this.options.onRefreshFailed);
    }
    try {
      return await (this.keys as JWTVerifyGetKey)(header, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      // Join a fetch already running; start one only once per cooldown.
      if (!this.fetch.running) {
        if (now() - this.unknownKeyFetchAt < cooldownMs) throw error;
        this.unknownKeyFetchAt = now();
      }
      await this.refresh();
      return (this.keys as JWTVerifyGetKey)(header, token);
    }
  };

  private async load(): Promise<void> {
    const document = await this.options.fetchKeySet();
    let keys: JWTVerifyGetKey;
    try {
      keys = this.options.jose.createLocalJWKSet(
        document as Parameters<Jose['createLocalJWKSet']>[0],
      );
    } catch (error) {
      throw new KubeletAuthError(
        'ERR_OIDC_UNAVAILABLE',
        `the issuer's key set is malformed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.keys = keys;
    this.fetchedAt = this.options.now();
  }
}
