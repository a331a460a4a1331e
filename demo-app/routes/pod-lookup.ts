/**
 * Finds the pod and container a per-pod route names, answering with the kubelet's words when
 * this node does not run them (nothing further happens for such a request).
 */
import type { Request, Response } from 'express';
import type { DemoContainer, DemoPod, NodeModel } from '../payloads/node-model.js';
import { findPod } from '../payloads/node-model.js';
import { sendRestfulError } from './http-answers.js';

export interface PodParams {
  namespace: string;
  pod: string;
  container?: string;
  uid?: string;
}

/** The `:namespace`, `:pod`, `:container`, `:uid` parameters of a per-pod route (decoded by Express). */
export function podParams(req: Request): PodParams {
  const read = (name: string): string | undefined => {
    const value: unknown = (req.params as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const params: PodParams = { namespace: read('namespace') ?? '', pod: read('pod') ?? '' };
  const container = read('container');
  const uid = read('uid');
  if (container !== undefined) params.container = container;
  if (uid !== undefined) params.uid = uid;
  return params;
}

export interface PodTarget {
  pod: DemoPod;
  container: DemoContainer | undefined;
}

/**
 * Which handler asks: each words "not on this node" its own way. `logs` is containerLogs;
 * `streaming` is exec, attach and run, whose runtime answers 500 for a container it cannot find
 * (a pod UID that does not match included); `portForward` names no container; `checkpoint`
 * looks the container up in the pod's spec.
 */
export type LookupKind = 'logs' | 'streaming' | 'portForward' | 'checkpoint';

/**
 * The pod and container `params` name, or `undefined` once the kubelet's answer for a missing
 * one was written (go-restful's `WriteError`). `uid`, when the path carries one, must be the
 * pod's.
 */
export function lookupPod(
  model: NodeModel,
  res: Response,
  params: PodParams,
  kind: LookupKind,
): PodTarget | undefined {
  const pod = findPod(model, params.namespace, params.pod);
  if (!pod) {
    const message =
      kind === 'logs' ? `pod ${JSON.stringify(params.pod)} does not exist` : 'pod does not exist';
    sendRestfulError(res, 404, message);
    return undefined;
  }
  const uidMatches = params.uid === undefined || params.uid === pod.uid;
  if (kind === 'portForward') {
    if (uidMatches) return { pod, container: undefined };
    sendRestfulError(res, 404, 'pod not found');
    return undefined;
  }
  const name = params.container ?? '';
  const container = uidMatches ? pod.containers.find((c) => c.name === name) : undefined;
  if (container) return { pod, container };
  switch (kind) {
    case 'logs':
      sendRestfulError(
        res,
        404,
        `container ${JSON.stringify(name)} not found in pod ${JSON.stringify(params.pod)}`,
      );
      break;
    case 'streaming':
      sendRestfulError(res, 500, `container not found (${JSON.stringify(name)})`);
      break;
    case 'checkpoint':
      sendRestfulError(res, 404, `container ${name} does not exist`);
      break;
  }
  return undefined;
}
