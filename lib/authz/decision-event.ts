import type { KubeUser } from '../user.js';
import type { Attributes } from './attributes.js';

/** How a request ended at the auth layer. */
export type DecisionOutcome = 'allowed' | 'forbidden' | 'error' | 'unauthenticated' | 'bad-request';

/**
 * One request's auth outcome, for audit logs and metrics (`onDecision`). Carries who and what,
 * never a credential: no token, no certificate, no header.
 */
export interface DecisionEvent {
  decision: DecisionOutcome;
  method: string;
  /**
   * The decoded path; for a target refused before its path was accepted, the path as sent
   * (still encoded), never its query or an absolute-form `user:password@host`.
   */
  path: string;
  /** The authenticated user; absent for `unauthenticated` and `bad-request`. */
  user?: KubeUser;
  /** The attribute records derived for the request, in the order they are asked. */
  attributes: readonly Attributes[];
  /** The record that decided: the one allowed, or the one whose review failed. */
  decidedBy?: Attributes;
  /** The authorizer's reason, the error's message, or why authentication failed. */
  reason?: string;
  /** Time spent deciding, in ms (authentication and authorization, API calls included). */
  latencyMs: number;
}

/** Receives every {@link DecisionEvent}; what it throws is logged and otherwise ignored. */
export type DecisionListener = (event: DecisionEvent) => void;

/** The event of a request refused before any attribute was asked about (401 or 400). */
export function refusalEvent(
  decision: 'unauthenticated' | 'bad-request',
  method: string | undefined,
  path: string,
  startedAt: number,
  reason?: string,
): DecisionEvent {
  const event: DecisionEvent = {
    decision,
    method: method ?? '',
    path,
    attributes: [],
    latencyMs: performance.now() - startedAt,
  };
  if (reason !== undefined) event.reason = reason;
  return event;
}
