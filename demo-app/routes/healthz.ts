/**
 * `/healthz`, `/healthz/<check>`: the kubelet's health checks (ping, log, syncloop), answered by
 * the apiserver healthz handler, which serves any method. `?verbose` lists each check.
 */
import express from 'express';
import type { Router } from 'express';
import { HEALTHZ_CHECKS } from '../payloads/sli-metrics.js';
import { TEXT, notFound, send } from './http-answers.js';

export function healthzRoutes(): Router {
  const router = express.Router();
  router.all('/healthz', (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.query.verbose === undefined) {
      send(res, 200, TEXT, 'ok');
      return;
    }
    const lines = HEALTHZ_CHECKS.map((check) => `[+]${check} ok`);
    send(res, 200, TEXT, `${lines.join('\n')}\nhealthz check passed\n`);
  });
  router.all('/healthz/:check', (req, res) => {
    if (!(HEALTHZ_CHECKS as readonly string[]).includes(req.params.check ?? '')) {
      notFound(req, res);
      return;
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    send(res, 200, TEXT, 'ok');
  });
  return router;
}
