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
import { TEXT, onlyMethods, send, sendRestfulError } from './http-answers.js';
import { lookupPod, podParams } from './pod-lookup.js';
import { goQuery } from './query.js';

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
  // The kubelet's exact answers when the query does not decode into PodLogOptions, or does not
  // validate.
  const options = readOptions(goQuery(req));
  if (options === 'undecodable') {
    sendRestfulError(res, 400, '{"message": "Unable to decode query."}');
    return;
  }
  if (options === 'invalid') {
    sendRestfulError(res, 422, '{"message": "Invalid request."}');
    return;
  }
  const target = lookupPod(ctx.model, res, params, 'logs');
  if (!target?.container) return;
  if (options.previous) {
    sendRestfulError(
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
  /** Milliseconds since the epoch. */
  sinceTime?: number;
  limitBytes?: number;
  timestamps: boolean;
  previous: boolean;
}

/**
 * The query as the kubelet reads it into `v1.PodLogOptions`: the first value of each parameter;
 * the old `tail` (`all`: no limit) in place of `tailLines`; a boolean false only when absent,
 * `0` or `false` in any case; integers as Go's `ParseInt` reads them; `sinceTime` in RFC 3339.
 * Then its validation: no negative `tailLines`, `sinceSeconds` and `limitBytes` at least 1, not
 * both `sinceSeconds` and `sinceTime`.
 */
function readOptions(query: URLSearchParams): LogOptions | 'undecodable' | 'invalid' {
  const tail = query.get('tail');
  if (tail) {
    if (tail === 'all') query.delete('tailLines');
    else query.set('tailLines', tail);
  }
  const tailLines = goInt64(query.get('tailLines'));
  const sinceSeconds = goInt64(query.get('sinceSeconds'));
  const limitBytes = goInt64(query.get('limitBytes'));
  const sinceTime = rfc3339(query.get('sinceTime'));
  if ([tailLines, sinceSeconds, limitBytes, sinceTime].includes(null)) return 'undecodable';
  const flag = (name: string): boolean => {
    const value = query.get(name);
    return value !== null && value !== '0' && value.toLowerCase() !== 'false';
  };
  if (
    (tailLines != null && tailLines < 0) ||
    (limitBytes != null && limitBytes < 1) ||
    (sinceSeconds != null && (sinceTime !== undefined || sinceSeconds < 1))
  ) {
    return 'invalid';
  }
  return {
    ...(tailLines != null ? { tailLines } : {}),
    ...(sinceSeconds != null ? { sinceSeconds } : {}),
    ...(sinceTime != null ? { sinceTime } : {}),
    ...(limitBytes != null ? { limitBytes } : {}),
    timestamps: flag('timestamps'),
    previous: flag('previous'),
  };
}

const INT64_MAX = 2n ** 63n - 1n;
/** Go's zero `time.Time`, 0001-01-01T00:00:00Z, in milliseconds since the epoch. */
const GO_ZERO_TIME = -62_135_596_800_000;

/** Go's `strconv.ParseInt(text, 10, 64)`: `undefined` when absent, `null` when it fails. */
function goInt64(text: string | null): number | undefined | null {
  if (text === null) return undefined;
  if (!/^[+-]?\d+$/.test(text)) return null;
  const value = BigInt(text);
  return value > INT64_MAX || value < -INT64_MAX - 1n ? null : Number(value);
}

/**
 * `metav1.Time`'s query form: empty (or `null`) is the zero time, else Go's
 * `time.Parse(time.RFC3339, …)`, which also takes a comma before the fraction and an offset of
 * up to 24 hours and 60 minutes; `undefined` when absent, `null` when it fails.
 */
function rfc3339(text: string | null): number | undefined | null {
  if (text === null) return undefined;
  if (text === '' || text === 'null') return GO_ZERO_TIME;
  const match =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(
      text,
    );
  if (!match) return null;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map(Number);
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const dayValid = date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  const offset = Number(offsetHours) * 60 + Number(offsetMinutes);
  if (
    !dayValid ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number(offsetHours) > 24 ||
    Number(offsetMinutes) > 60
  ) {
    return null;
  }
  date.setUTCHours(hour, minute, second, Number(`0.${fraction || '0'}`) * 1000);
  return date.getTime() - (sign === '-' ? -offset : offset) * 60_000;
}
