/**
 * `/stats/summary`: the Summary API, for GET and POST, written by go-restful's `WriteAsJson`
 * (indented by one space, no trailing newline). Older `/stats/...` container endpoints were
 * removed from the kubelet, so every other path under `/stats/` is a 404 (after authorization).
 */
import express from 'express';
import type { Router } from 'express';
import { statsSummary } from '../payloads/summary.js';
import type { RouteContext } from './context.js';
import { onlyMethods, send } from './http-answers.js';

export function statsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/stats/summary', onlyMethods('GET', 'POST'), (req, res) => {
    const onlyCpuAndMemory = req.query.only_cpu_and_memory === 'true';
    const summary = statsSummary(ctx.model, ctx.now(), { onlyCpuAndMemory });
    send(res, 200, 'application/json', JSON.stringify(summary, null, 1));
  });
  return router;
}
