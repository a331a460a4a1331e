import type { DecisionEvent, DecisionListener } from '../contracts.js';
import type { Logger } from '../logger.js';

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

/** Calls a decision listener, keeping its failures away from the request. */
export function notifier(
  listener: DecisionListener | undefined,
  logger: Required<Logger>,
): ((event: DecisionEvent) => void) | undefined {
  if (!listener) return undefined;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      logger.warn(`onDecision threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
