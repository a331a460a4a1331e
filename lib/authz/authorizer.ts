import {
  authorizeSafely,
  type Attributes,
  type AuthorizationResult,
  type Authorizer,
} from '../contracts.js';

/** A result and the settled promise of it: the constant answer of an in-process rule. */
export interface Answer {
  readonly result: AuthorizationResult;
  readonly promise: Promise<AuthorizationResult>;
}

/**
 * A frozen result with its promise, made once at construction.
 *
 * @example const ALLOWED = answer({ decision: 'Allow', reason: 'allowed by rule 0' });
 */
export function answer(result: AuthorizationResult): Answer {
  const frozen = Object.freeze(result);
  return Object.freeze({ result: frozen, promise: Promise.resolve(frozen) });
}

/** The answer of an authorizer that has nothing to say. */
export const NO_OPINION: Answer = answer({ decision: 'NoOpinion' });

/**
 * An authorizer from a synchronous decision: `authorize` and `peek` give the same answer.
 *
 * @example fromDecision((a) => (a.verb === 'get' ? ALLOWED : NO_OPINION))
 */
export function fromDecision(decide: (attributes: Attributes) => Answer): Authorizer {
  return {
    authorize: function authorize(attributes) {
      return decide(attributes).promise;
    },
    peek: function peek(attributes) {
      return decide(attributes).result;
    },
  };
}

const ALLOW = answer({ decision: 'Allow' });
const DENY = answer({ decision: 'Deny' });

/** The kubelet's `AlwaysAllow` mode: every authenticated request (anonymous included) may pass. */
export function alwaysAllow(): Authorizer {
  return fromDecision(() => ALLOW);
}

/** Every request is denied (403). */
export function alwaysDeny(): Authorizer {
  return fromDecision(() => DENY);
}

/**
 * Asks each authorizer in order, as k8s.io/apiserver's union: the first `Allow` or `Deny` decides
 * (with its error, if any); `NoOpinion` goes on to the next; when none decides, the answer is
 * `NoOpinion` carrying the errors met on the way.
 */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  const union: Authorizer = {
    async authorize(attributes: Attributes): Promise<AuthorizationResult> {
      const errors: Error[] = [];
      const reasons: string[] = [];
      for (const authorizer of authorizers) {
        const result = await authorizeSafely(authorizer, attributes);
        if (result.decision !== 'NoOpinion') return result;
        if (result.error) errors.push(result.error);
        if (result.reason) reasons.push(result.reason);
      }
      const answer: AuthorizationResult = { decision: 'NoOpinion' };
      if (reasons.length > 0) answer.reason = reasons.join('\n');
      if (errors.length === 1) answer.error = errors[0];
      else if (errors.length > 1)
        answer.error = new AggregateError(errors, errors.map((e) => e.message).join('; '));
      return answer;
    },
  };
  // Known without waiting while each authorizer asked knows its answer (static rules, a cache
  // hit). A failure is left to `authorize`.
  union.peek = (attributes) => {
    let reason: string | undefined;
    for (const authorizer of authorizers) {
      const known = authorizer.peek?.(attributes);
      if (known === undefined || known.error) return undefined;
      if (known.decision !== 'NoOpinion') return known;
      if (known.reason) reason = reason === undefined ? known.reason : `${reason}\n${known.reason}`;
    }
    return reason === undefined ? NO_OPINION.result : { decision: 'NoOpinion', reason };
  };
  return union;
}
