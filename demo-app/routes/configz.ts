/** `/configz`: the effective configuration, as the configz handler serves it (any method). */
import express from 'express';
import type { Router } from 'express';
import { kubeletConfigz } from '../payloads/kubelet-configuration.js';
import type { RouteContext } from './context.js';
import { sendJson } from './http-answers.js';

export function configzRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/configz', (_req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    sendJson(res, kubeletConfigz(ctx.settings));
  });
  return router;
}
