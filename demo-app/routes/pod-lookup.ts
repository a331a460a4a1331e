/**
 * Finds the pod and container a per-pod route names, answering 404 with the kubelet's words
 * when this node does not run them (nothing further happens for such a request).
 */
import type { Request, Response } from 'express';
import type { DemoContainer, DemoPod, NodeModel } from '../payloads/node-model.js';
import { findPod } from '../payloads/node-model.js';
import { sendError } from './http-answers.js';

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
 * `container` undefined means the route names no container (portForward). `uid`, when the path
 * carries one, must be the pod's, as the kubelet checks it.
 */
export function lookupPod(
  model: NodeModel,
  res: Response,
  params: PodParams,
): PodTarget | undefined {
  const pod = findPod(model, params.namespace, params.pod);
  if (!pod || (params.uid !== undefined && params.uid !== pod.uid)) {
    sendError(res, 404, `pod ${JSON.stringify(params.pod)} does not exist`);
    return undefined;
  }
  if (params.container === undefined) return { pod, container: undefined };
  const container = pod.containers.find((c) => c.name === params.container);
  if (!container) {
    sendError(
      res,
      404,
      `container ${JSON.stringify(params.container)} not found in pod ${JSON.stringify(params.pod)}`,
    );
    return undefined;
  }
  return { pod, container };
}
