/**
 * `/metrics`, `/metrics/cadvisor`, `/metrics/resource`, `/metrics/probes`, `/metrics/slis`:
 * Prometheus text. The kubelet mounts promhttp handlers, which answer any method.
 */
import { gzipSync } from 'node:zlib';
import express from 'express';
import type { Router } from 'express';
import { cadvisorMetrics } from '../payloads/cadvisor-metrics.js';
import { kubeletMetrics } from '../payloads/kubelet-metrics.js';
import { probeMetrics } from '../payloads/probe-metrics.js';
import { resourceMetrics } from '../payloads/resource-metrics.js';
import { sliMetrics } from '../payloads/sli-metrics.js';
import type { RouteContext } from './context.js';
import { gzipWanted, metricsContentType } from './metrics-negotiation.js';

export function metricsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  const endpoints: Record<string, () => string> = {
    '/metrics': () => kubeletMetrics(ctx.model, ctx.settings['feature-gates'], ctx.now()),
    '/metrics/cadvisor': () => cadvisorMetrics(ctx.model, ctx.now()),
    '/metrics/resource': () => resourceMetrics(ctx.model, ctx.now()),
    '/metrics/probes': () => probeMetrics(ctx.model, ctx.now()),
    '/metrics/slis': () => sliMetrics(ctx.model.kubeletStartedAt, ctx.now()),
  };
  for (const [path, render] of Object.entries(endpoints)) {
    const extra = path === '/metrics' ? ctx.authMetrics : undefined;
    router.all(path, async (req, res) => {
      const text = render();
      const body = extra ? text + (await extra()) : text;
      res.status(200).setHeader('Content-Type', metricsContentType(req.headers.accept));
      if (gzipWanted(req.headers['accept-encoding'])) {
        res.setHeader('Content-Encoding', 'gzip');
        res.end(gzipSync(body));
      } else {
        res.end(body);
      }
    });
  }
  return router;
}
