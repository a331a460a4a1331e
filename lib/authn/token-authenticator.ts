import { KubeletAuthError } from '../errors.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import type { KubeUser, TokenAuthenticator, TokenResult } from '../contracts.js';
import { checkKnownKeys, checkNonEmptyStrings, optionNames } from '../option-errors.js';

/** Options of {@link webhookTokenAuthenticator}. */
export interface WebhookTokenAuthenticatorOptions {
  /** TokenReview `spec.audiences`; when set, the review must name one of them. Default: none. */
  audiences?: readonly string[];
}

const WEBHOOK_TOKEN_OPTIONS = optionNames<WebhookTokenAuthenticatorOptions>({ audiences: true });

/**
 * A token authenticator that asks the API server's TokenReview (`authentication.k8s.io/v1`),
 * mapped as the kubelet does: `status.user` → the user; not authenticated without `status.error`
 * → `{ authenticated: false }` (cacheable); `status.error`, or "authenticated" without a user,
 * → an error (never cached).
 */
export function webhookTokenAuthenticator(
  client: ReviewClient,
  options: WebhookTokenAuthenticatorOptions = {},
): TokenAuthenticator {
  checkKnownKeys('webhookTokenAuthenticator', options, WEBHOOK_TOKEN_OPTIONS);
  if (options.audiences !== undefined) {
    checkNonEmptyStrings(options.audiences, 'webhookTokenAuthenticator: audiences');
  }
  const audiences =
    options.audiences && options.audiences.length > 0 ? [...options.audiences] : undefined;
  return {
    audiences,
    async authenticateToken(token: string): Promise<TokenResult> {
      const status = await client.tokenReview(audiences ? { token, audiences } : { token });
      if (status.authenticated !== true) {
        if (status.error) {
          // status.error is the API server's text; it is left out in case it quotes the token.
          throw new KubeletAuthError(
            'ERR_TOKEN_REVIEW_ERROR',
            'TokenReview: the API server reported an error while reviewing the token',
          );
        }
        return { authenticated: false };
      }
      const reviewed = status.user;
      if (!reviewed || typeof reviewed.username !== 'string' || reviewed.username === '') {
        throw new KubeletAuthError(
          'ERR_TOKEN_REVIEW_ERROR',
          'TokenReview: the API server said authenticated but named no user',
        );
      }
      if (audiences && !audiences.some((a) => status.audiences?.includes(a))) {
        // As k8s.io/apiserver: a token valid only for other audiences is not authenticated here.
        return { authenticated: false };
      }
      const user: KubeUser = { username: reviewed.username, groups: [...(reviewed.groups ?? [])] };
      if (reviewed.uid) user.uid = reviewed.uid;
      if (reviewed.extra && Object.keys(reviewed.extra).length > 0)
        user.extra = copyExtra(reviewed.extra);
      return status.audiences
        ? { authenticated: true, user, audiences: status.audiences }
        : { authenticated: true, user };
    },
  };
}

function copyExtra(extra: Record<string, string[]>): Record<string, string[]> {
  const copy: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(extra)) copy[key] = [...(values ?? [])];
  return copy;
}
