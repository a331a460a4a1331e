/**
 * The two review kinds on the wire (`authentication.k8s.io/v1` TokenReview and
 * `authorization.k8s.io/v1` SubjectAccessReview), reduced to the fields this package sends and
 * reads. Field names and omission rules follow the Kubernetes JSON (`omitempty`).
 */

export interface TokenReviewSpec {
  token: string;
  audiences?: string[];
}

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: {
    username?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
  };
  audiences?: string[];
  error?: string;
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

export interface SubjectAccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/**
 * What the authenticators and authorizers need from an API server: one call per review.
 * `createReviewClient` implements it over `@kubernetes/client-node`; tests and embedders may
 * implement it directly.
 */
export interface ReviewClient {
  /** Sends a TokenReview; rejects with a `ReviewFailedError` when there is no usable answer. */
  tokenReview(spec: TokenReviewSpec): Promise<TokenReviewStatus>;
  /** Sends a SubjectAccessReview; rejects with a `ReviewFailedError` when there is no usable answer. */
  subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus>;
  /** Releases idle connections to the API server, when the client keeps any. */
  close?(): void;
}
