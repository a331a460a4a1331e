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
 * `exec` (and run) and `attach` ask the runtime, which answers 500 for a container it cannot
 * find and, given the pod's full name, never reads the UID in the path; `portForward` names no
 * container and checks the UID; `checkpoint` looks the container up in the pod's spec.
 */
export type LookupKind = 'logs' | 'exec' | 'attach' | 'portForward' | 'checkpoint';

/**
 * The pod and container `params` name, or `undefined` once the kubelet's answer for a missing
 * one was written (go-restful's `WriteError`).
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
  if (kind === 'portForward') {
    if (params.uid === undefined || params.uid === pod.uid) return { pod, container: undefined };
    sendRestfulError(res, 404, 'pod not found');
    return undefined;
  }
  const name = params.container ?? '';
  const container = pod.containers.find((c) => c.name === name);
  if (container) return { pod, container };
  switch (kind) {
    case 'logs':
      sendRestfulError(
        res,
        404,
        `container ${JSON.stringify(name)} not found in pod ${JSON.stringify(params.pod)}`,
      );
      break;
    case 'exec':
      sendRestfulError(res, 500, `container not found (${JSON.stringify(name)})`);
      break;
    case 'attach':
      sendRestfulError(res, 500, `container ${name} not found in pod ${pod.name}_${pod.namespace}`);
      break;
    case 'checkpoint':
      sendRestfulError(res, 404, `container ${name} does not exist`);
      break;
  }
  return undefined;
}
