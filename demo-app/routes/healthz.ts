/**
 * `/healthz`, `/healthz/<check>`: the kubelet's health checks (ping, log, syncloop), answered by
 * the apiserver healthz handler, which serves any method. `?verbose` lists each check, and
 * `?exclude=<check>` (repeatable) skips one, as that handler reads its query.
 */
import express from 'express';
import type { Router } from 'express';
import { HEALTHZ_CHECKS } from '../payloads/sli-metrics.js';
import { TEXT, notFound, send } from './http-answers.js';
import { goQuery } from './query.js';

export function healthzRoutes(): Router {
  const router = express.Router();
  router.all('/healthz', (req, res) => {
    const query = goQuery(req);
    const excluded = new Set(query.getAll('exclude'));
    const lines = HEALTHZ_CHECKS.map((check) =>
      excluded.delete(check) ? `[+]${check} excluded: ok` : `[+]${check} ok`,
    );
    if (excluded.size > 0) {
      // Go's %q of each name, sorted, joined by commas.
      const names = [...excluded].sort().map((name) => JSON.stringify(name));
      lines.push(`warn: some health checks cannot be excluded: no matches for ${names.join(',')}`);
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (!query.has('verbose')) {
      send(res, 200, TEXT, 'ok');
      return;
    }
    send(res, 200, TEXT, `${lines.join('\n')}\nhealthz check passed\n`);
  });
  // One check alone: a plain Go handler, which writes `ok` with a sniffed type and no nosniff.
  router.all('/healthz/:check', (req, res) => {
    if (!(HEALTHZ_CHECKS as readonly string[]).includes(req.params.check ?? '')) {
      notFound(req, res);
      return;
    }
    send(res, 200, TEXT, 'ok');
  });
  return router;
}
