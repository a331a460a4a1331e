/** `/spec/`: cAdvisor machine info, from the original kubelet API. */
import express from 'express';
import type { Router } from 'express';
import { machineInfo } from '../payloads/machine-info.js';
import type { RouteContext } from './context.js';
import { onlyMethods, sendJson } from './http-answers.js';

export function specRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/spec', onlyMethods('GET'), (_req, res) =>
    sendJson(res, machineInfo(ctx.model, ctx.now())),
  );
  return router;
}
