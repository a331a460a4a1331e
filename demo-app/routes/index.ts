/**
 * Every kubelet endpoint the mock serves, one router per family, without authentication (the
 * server puts `kubeletAuth` in front). Paths none of them serve fall through to the app's 404.
 */
import express from 'express';
import type { Router } from 'express';
import { checkpointRoutes } from './checkpoint.js';
import { configzRoutes } from './configz.js';
import { containerLogsRoutes } from './container-logs.js';
import type { RouteContext } from './context.js';
import { healthzRoutes } from './healthz.js';
import { logsRoutes } from './logs.js';
import { metricsRoutes } from './metrics.js';
import { podsRoutes } from './pods.js';
import { specRoutes } from './spec.js';
import { statsRoutes } from './stats.js';
import { streamingRoutes } from './streaming.js';

export type { RouteContext } from './context.js';

export function kubeletRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.use(
    healthzRoutes(),
    podsRoutes(ctx),
    statsRoutes(ctx),
    metricsRoutes(ctx),
    specRoutes(ctx),
    logsRoutes(ctx.logsRoot),
    configzRoutes(ctx),
    containerLogsRoutes(ctx),
    streamingRoutes(ctx),
    checkpointRoutes(ctx),
  );
  return router;
}
