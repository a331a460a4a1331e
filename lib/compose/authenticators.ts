import type { ReviewClient } from '../apiserver/reviews.js';
import { CABundle } from '../authn/ca-bundle.js';
import { FrontProxyAuthenticator } from '../authn/request-header.js';
import {
  kubeletClusterAuthentication,
  type KubeletClusterAuthentication,
} from '../authn/cluster-authentication/kubelet-option.js';
import { OIDCAuthenticator } from '../authn/oidc/strategy.js';
import { authenticatedGroupAdder } from '../authn/authenticated-group.js';
import { BearerTokenAuthenticator } from '../authn/token.js';
import { webhookTokenAuthenticator } from '../authn/token-authenticator.js';
import { cachedTokenAuthenticator } from '../cache/token-cache.js';
import { WebSocketTokenAuthenticator } from '../authn/websocket-token.js';
import { ClientCertAuthenticator } from '../authn/x509.js';
import type { KubeletAuthDependencies, ResolvedKubeletAuthConfig } from '../config.js';
import type { RequestAuthenticator } from '../contracts.js';
import { observedAuthenticator } from '../metrics/observed-authenticator.js';
import type { AuthenticationMethod } from '../metrics/observer.js';

/** The authenticators of a union, in order, and how to release the files they watch. */
export interface Authentication {
  authenticators: RequestAuthenticator[];
  /** Settles once the cluster's configuration was first read (at once without it). */
  ready: Promise<void>;
  close(): void;
}

/**
 * The configured authenticators in the order the API server and the kubelet ask them:
 * front proxy, client certificate, `Authorization` bearer token (OIDC, then TokenReview),
 * WebSocket subprotocol token.
 * Anonymous is the union's fallback, not one of them. Each is observed by the metrics, if any.
 */
export function kubeletAuthenticators(
  config: ResolvedKubeletAuthConfig,
  deps: KubeletAuthDependencies,
  reviewClient: ReviewClient | undefined,
): Authentication {
  const { logger, metrics } = deps;
  const observed = (authenticator: RequestAuthenticator, method: AuthenticationMethod) =>
    metrics ? observedAuthenticator(authenticator, method, metrics) : authenticator;
  const authenticators: RequestAuthenticator[] = [];
  const bundles: CABundle[] = [];
  let cluster: KubeletClusterAuthentication | undefined;
  const close = (): void => {
    for (const bundle of bundles) bundle.close();
    cluster?.close();
  };
  try {
    cluster = kubeletClusterAuthentication(config, deps);
    if (cluster?.requestHeader) {
      const frontProxy = new FrontProxyAuthenticator({
        ...cluster.requestHeader,
        logger,
        cacheSize: config.cacheSize,
      });
      authenticators.push(observed(frontProxy, 'requestheader'));
    }
    if (config.requestHeader) {
      const { clientCAFile, ...headers } = config.requestHeader;
      const bundle = CABundle.fromFile(clientCAFile, {
        option: 'authentication.requestHeader.clientCAFile',
        logger,
      });
      bundles.push(bundle);
      // First, as the API server orders them: a front proxy's own certificate must not
      // authenticate as the proxy when its CA is also a client CA.
      const frontProxy = new FrontProxyAuthenticator({
        bundle,
        ...headers,
        logger,
        cacheSize: config.cacheSize,
      });
      authenticators.push(observed(frontProxy, 'requestheader'));
    }
    if (cluster?.clientCA) {
      const { clientCA: bundle } = cluster;
      const x509 = new ClientCertAuthenticator({ bundle, logger, cacheSize: config.cacheSize });
      authenticators.push(observed(x509, 'x509'));
    }
    if (config.clientCAFile !== '') {
      const bundle = CABundle.fromFile(config.clientCAFile, {
        option: 'authentication.x509.clientCAFile',
        logger,
      });
      bundles.push(bundle);
      const x509 = new ClientCertAuthenticator({ bundle, logger, cacheSize: config.cacheSize });
      authenticators.push(observed(x509, 'x509'));
    }
    // OIDC in the token position, before TokenReview, as kube-apiserver orders them.
    if (config.oidc)
      authenticators.push(observed(new OIDCAuthenticator(config.oidc, logger), 'oidc'));
    if (config.tokenWebhook && reviewClient) {
      const reviews = webhookTokenAuthenticator(reviewClient, { audiences: config.audiences });
      const cached = cachedTokenAuthenticator(authenticatedGroupAdder(reviews), {
        ttlMs: config.tokenCacheTtlMs,
        maxEntries: config.cacheSize,
        staleIfErrorMs: config.staleIfErrorMs,
        logger,
        ...(metrics ? { metrics } : {}),
      });
      const tokens = new BearerTokenAuthenticator(cached, logger);
      authenticators.push(
        observed(tokens, 'token'),
        observed(new WebSocketTokenAuthenticator(tokens), 'websocket'),
      );
    }
  } catch (error) {
    // A CA file that cannot be used: release what was opened before it, then fail.
    close();
    throw error;
  }
  return { authenticators, ready: cluster?.ready ?? Promise.resolve(), close };
}
