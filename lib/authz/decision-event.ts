import type { DecisionEvent } from '../contracts.js';

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
