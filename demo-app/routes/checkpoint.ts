/**
 * `POST /checkpoint/{namespace}/{pod}/{container}`: registered only while the
 * ContainerCheckpoint gate is on (off: the path is a 404, as in the kubelet). The answer names
 * the archive a real kubelet would have written; nothing is written.
 */
import express from 'express';
import type { Router } from 'express';
import { rfc3339 } from '../payloads/time-format.js';
import type { RouteContext } from './context.js';
import { onlyMethods, sendJson } from './http-answers.js';
import { lookupPod, podParams } from './pod-lookup.js';

export function checkpointRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  if (!ctx.settings['feature-gates'].ContainerCheckpoint) return router;
  router.all('/checkpoint/:namespace/:pod/:container', onlyMethods('POST'), (req, res) => {
    const params = podParams(req);
    if (!lookupPod(ctx.model, res, params, 'checkpoint')) return;
    const { namespace, pod, container = '' } = params;
    const archive = `/var/lib/kubelet/checkpoints/checkpoint-${pod}_${namespace}-${container}-${rfc3339(ctx.now())}.tar`;
    sendJson(res, { items: [archive] });
  });
  return router;
}
