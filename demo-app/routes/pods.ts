/**
 * `/pods` (the kubelet's pods) and `/runningpods/` (what the runtime runs): GET only, behind
 * the kubelet's GET-only filter.
 */
import express from 'express';
import type { Router } from 'express';
import { podList, runningPodList } from '../payloads/pod-list.js';
import type { RouteContext } from './context.js';
import { onlyMethods, sendJson } from './http-answers.js';

export function podsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/pods', onlyMethods('GET'), (_req, res) => sendJson(res, podList(ctx.model)));
  router.all('/runningpods', onlyMethods('GET'), (_req, res) =>
    sendJson(res, runningPodList(ctx.model)),
  );
  return router;
}
