import type {
  ConfigurationOptions,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { ClientNode } from './client-node.js';
import type { KeepAliveAgents } from './keep-alive.js';

/** What the last answer of a call was, read by the call's failure handling. */
export interface Seen {
  status: number;
}

/**
 * Per-call client-node options: the deadline's AbortSignal, and the shared keep-alive pool in
 * place of the one client-node made for this request; with `seen`, the answer's status is
 * recorded. The object-parameter API (1.x and 2.x) runs per-call middleware on its Observable
 * API, after the kubeconfig's credentials were applied.
 */
export function perCallOptions(
  k8s: ClientNode,
  signal: AbortSignal,
  agents: KeepAliveAgents,
  seen?: Seen,
): ConfigurationOptions {
  return {
    middleware: [
      {
        pre(context: RequestContext) {
          context.setSignal(signal);
          agents.apply(context);
          return new k8s.Observable(Promise.resolve(context));
        },
        post(response: ResponseContext) {
          if (seen) seen.status = response.httpStatusCode;
          return new k8s.Observable(Promise.resolve(response));
        },
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
