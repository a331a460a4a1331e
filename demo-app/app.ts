/**
 * The Express app of the mock kubelet: whatever goes in front (request log, Go's multiplexer,
 * `kubeletAuth`), then the kubelet's endpoints, then Go's 404 for any other path (as on the
 * kubelet, a path under an endpoint's prefix that no route serves is a 404 only for a caller that
 * passed authorization).
 */
import { STATUS_CODES } from 'node:http';
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { RouteContext } from './routes/index.js';
import { kubeletRoutes } from './routes/index.js';
import { notFound, sendError } from './routes/http-answers.js';

export interface KubeletAppOptions {
  context: RouteContext;
  /** Middleware run before every route, in order. */
  before?: RequestHandler[];
  /** Told about unexpected errors (the client only gets a bare 500). */
  onError?: (message: string) => void;
}

export function createKubeletApp(options: KubeletAppOptions): Express {
  const app = express();
  // A kubelet sends neither; keep the answers looking like its.
  app.disable('x-powered-by');
  app.set('etag', false);
  for (const handler of options.before ?? []) app.use(handler);
  app.use(kubeletRoutes(options.context));
  app.use(notFound);
  app.use(function kubeletErrorHandler(
    error: unknown,
    _req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    const status = statusOf(error);
    if (status >= 500) {
      options.onError?.(
        `internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, status, STATUS_CODES[status] ?? 'Error');
  });
  return app;
}

// Express marks client mistakes (a malformed percent-escape in a path parameter) with a 4xx status.
function statusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
