import { KubeletAuthError } from '../../errors.js';

/**
 * The one field of an issuer's discovery document (`/.well-known/openid-configuration`) that
 * verification needs, once the document is known to be this issuer's: where its keys are.
 * As go-oidc (which kube-apiserver uses) checks it, the document's `issuer` must be the
 * configured issuer URL exactly. `jwks_uri` must be an https URL too, since tokens are only as
 * safe as the way their keys are fetched. Throws `ERR_OIDC_UNAVAILABLE` otherwise.
 */
export function jwksURIOf(document: unknown, issuerURL: string, discoveryURL: string): string {
  const fail = (reason: string): never => {
    throw new KubeletAuthError(
      'ERR_OIDC_UNAVAILABLE',
      `discovery document ${discoveryURL}: ${reason}`,
    );
  };
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return fail('not a JSON object');
  }
  const { issuer, jwks_uri: jwksURI } = document as Record<string, unknown>;
  if (issuer !== issuerURL) {
    return fail(`names the issuer ${shown(issuer)}, not ${JSON.stringify(issuerURL)}`);
  }
  if (typeof jwksURI !== 'string') return fail('has no jwks_uri');
  let url: URL;
  try {
    url = new URL(jwksURI);
  } catch {
    return fail(`jwks_uri ${shown(jwksURI)} is not a URL`);
  }
  if (url.protocol !== 'https:') return fail(`jwks_uri ${shown(jwksURI)} is not https`);
  return jwksURI;
}

/** A value from the network, quoted and cut short for a log line. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
