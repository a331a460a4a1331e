/**
 * `/metrics`, `/metrics/cadvisor`, `/metrics/resource`, `/metrics/probes`, `/metrics/slis`:
 * Prometheus text. The kubelet mounts promhttp handlers, which answer any method.
 */
import express from 'express';
import type { Router } from 'express';
import { cadvisorMetrics } from '../payloads/cadvisor-metrics.js';
import { kubeletMetrics } from '../payloads/kubelet-metrics.js';
import { probeMetrics } from '../payloads/probe-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from '../payloads/prometheus-text.js';
import { resourceMetrics } from '../payloads/resource-metrics.js';
import { sliMetrics } from '../payloads/sli-metrics.js';
import type { RouteContext } from './context.js';
import { send } from './http-answers.js';

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
    router.all(path, async (_req, res) => {
      const text = render();
      send(res, 200, PROMETHEUS_CONTENT_TYPE, extra ? text + (await extra()) : text);
    });
  }
  return router;
}
