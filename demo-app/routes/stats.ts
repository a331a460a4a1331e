/**
 * `/stats/summary`: the Summary API. Older `/stats/...` container endpoints were removed from
 * the kubelet, so every other path under `/stats/` is a 404 (after authorization).
 */
import express from 'express';
import type { Router } from 'express';
import { statsSummary } from '../payloads/summary.js';
import type { RouteContext } from './context.js';
import { onlyMethods, sendJson } from './http-answers.js';

export function statsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/stats/summary', onlyMethods('GET'), (req, res) => {
    const onlyCpuAndMemory = req.query.only_cpu_and_memory === 'true';
    sendJson(res, statsSummary(ctx.model, ctx.now(), { onlyCpuAndMemory }));
  });
  return router;
}
