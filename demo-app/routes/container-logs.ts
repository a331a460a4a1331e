/**
 * `/containerLogs/{namespace}/{pod}/{container}`: a container's log as plain text, with the
 * kubelet's query options `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `limitBytes`
 * and `previous` (`follow` returns what exists and ends: nothing here ever writes more).
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { containerLogLines } from '../payloads/container-log-lines.js';
import { rfc3339Nano } from '../payloads/time-format.js';
import type { RouteContext } from './context.js';
import { TEXT, onlyMethods, send, sendError } from './http-answers.js';
import { lookupPod, podParams } from './pod-lookup.js';

export function containerLogsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  router.all('/containerLogs/:namespace/:pod/:container', onlyMethods('GET'), (req, res) =>
    serveContainerLog(ctx, req, res),
  );
  return router;
}

function serveContainerLog(ctx: RouteContext, req: Request, res: Response): void {
  const params = podParams(req);
  const { pod, container = '' } = params;
  const options = readOptions(req);
  if (options === undefined) {
    // The kubelet's exact answer when the query does not decode into PodLogOptions.
    sendError(res, 400, '{"message": "Unable to decode query."}');
    return;
  }
  const target = lookupPod(ctx.model, res, params);
  if (!target?.container) return;
  if (options.previous) {
    sendError(
      res,
      400,
      `previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} not found`,
    );
    return;
  }
  const now = ctx.now();
  let lines = containerLogLines(target.container, target.pod.startedAt, now);
  const since =
    options.sinceSeconds !== undefined
      ? now.getTime() - options.sinceSeconds * 1000
      : options.sinceTime;
  if (since !== undefined) lines = lines.filter((line) => line.time.getTime() >= since);
  if (options.tailLines !== undefined)
    lines = options.tailLines === 0 ? [] : lines.slice(-options.tailLines);
  let body = lines
    .map((line) => `${options.timestamps ? `${rfc3339Nano(line.time)} ` : ''}${line.text}\n`)
    .join('');
  if (options.limitBytes !== undefined)
    body = Buffer.from(body).subarray(0, options.limitBytes).toString();
  send(res, 200, TEXT, body);
}

interface LogOptions {
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: number;
  limitBytes?: number;
  timestamps: boolean;
  previous: boolean;
}

function readOptions(req: Request): LogOptions | undefined {
  const text = (name: string): string | undefined => {
    const value: unknown = req.query[name];
    return typeof value === 'string' ? value : undefined;
  };
  const int = (name: string, min: number): number | undefined | null => {
    const value = text(name);
    if (value === undefined) return undefined;
    return /^\d+$/.test(value) && Number(value) >= min ? Number(value) : null;
  };
  const bool = (name: string): boolean | null => {
    const value = text(name);
    if (value === undefined || value === 'false') return false;
    return value === 'true' || value === '' ? true : null;
  };
  const tailLines = int('tailLines', 0);
  const sinceSeconds = int('sinceSeconds', 1);
  const limitBytes = int('limitBytes', 1);
  const sinceTimeText = text('sinceTime');
  const sinceTime = sinceTimeText === undefined ? undefined : Date.parse(sinceTimeText);
  const timestamps = bool('timestamps');
  const previous = bool('previous');
  bool('follow');
  if (
    tailLines === null ||
    sinceSeconds === null ||
    limitBytes === null ||
    timestamps === null ||
    previous === null ||
    (sinceTime !== undefined && Number.isNaN(sinceTime))
  ) {
    return undefined;
  }
  return { tailLines, sinceSeconds, sinceTime, limitBytes, timestamps, previous };
}
