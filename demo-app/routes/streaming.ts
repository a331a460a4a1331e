/**
 * `/exec`, `/attach`, `/run` and `/portForward`: the kubelet's streaming endpoints, answered with
 * a canned text that says what would have happened. Nothing is executed, attached or forwarded,
 * so a demo can show who may reach these endpoints without any risk.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { RouteContext } from './context.js';
import { TEXT, onlyMethods, send, sendRestfulError } from './http-answers.js';
import { lookupPod, podParams } from './pod-lookup.js';
import { goQuery } from './query.js';

interface StreamingEndpoint {
  kind: 'exec' | 'attach' | 'run' | 'portForward';
  methods: string[];
  paths: string[];
}

// The kubelet registers exec, attach and portForward for GET (WebSocket) and POST (SPDY), run for POST.
const ENDPOINTS: StreamingEndpoint[] = [
  {
    kind: 'exec',
    methods: ['GET', 'POST'],
    paths: ['/exec/:namespace/:pod/:container', '/exec/:namespace/:pod/:uid/:container'],
  },
  {
    kind: 'attach',
    methods: ['GET', 'POST'],
    paths: ['/attach/:namespace/:pod/:container', '/attach/:namespace/:pod/:uid/:container'],
  },
  {
    kind: 'run',
    methods: ['POST'],
    paths: ['/run/:namespace/:pod/:container', '/run/:namespace/:pod/:uid/:container'],
  },
  {
    kind: 'portForward',
    methods: ['GET', 'POST'],
    paths: ['/portForward/:namespace/:pod', '/portForward/:namespace/:pod/:uid'],
  },
];

export function streamingRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  for (const endpoint of ENDPOINTS) {
    for (const path of endpoint.paths) {
      router.all(path, onlyMethods(...endpoint.methods), (req, res) =>
        answer(ctx, endpoint, req, res),
      );
    }
  }
  return router;
}

function answer(ctx: RouteContext, endpoint: StreamingEndpoint, req: Request, res: Response): void {
  if ((endpoint.kind === 'exec' || endpoint.kind === 'attach') && !asksForAStream(req)) {
    // remotecommand's NewOptions, which the kubelet runs before it looks the pod up.
    sendRestfulError(res, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    return;
  }
  const params = podParams(req);
  const { namespace, pod, container } = params;
  const target = lookupPod(
    ctx.model,
    res,
    params,
    endpoint.kind === 'run' ? 'exec' : endpoint.kind,
  );
  if (!target) return;
  const where =
    container === undefined
      ? `pod ${namespace}/${pod}`
      : `container ${JSON.stringify(container)} of pod ${namespace}/${pod}`;
  const command = queryList(req, endpoint.kind === 'run' ? 'cmd' : 'command');
  let text: string;
  switch (endpoint.kind) {
    case 'exec':
    case 'run':
      text = `mock-kubelet: ${endpoint.kind} is simulated: nothing was executed in ${where}${command.length > 0 ? ` (command: ${JSON.stringify(command)})` : ''}`;
      break;
    case 'attach':
      text = `mock-kubelet: attach is simulated: no stream was attached to ${where}`;
      break;
    case 'portForward':
      text = `mock-kubelet: portForward is simulated: no port of ${where} was forwarded${queryList(req, 'port').length > 0 ? ` (ports: ${queryList(req, 'port').join(', ')})` : ''}`;
      break;
  }
  send(res, 200, TEXT, `${text}\n`);
}

/**
 * Whether an exec or attach asks for stdin, stdout or stderr (`input`, `output`, `error` set to
 * `1`); with a TTY, stderr is merged into stdout and does not count.
 */
function asksForAStream(req: Request): boolean {
  const query = goQuery(req);
  const on = (name: string): boolean => query.get(name) === '1';
  return on('input') || on('output') || (on('error') && !on('tty'));
}

/** A repeated query parameter (`?command=ls&command=-l`), or a space-separated `cmd` for /run. */
function queryList(req: Request, name: string): string[] {
  const value: unknown = req.query[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const strings = values.filter((v): v is string => typeof v === 'string');
  return name === 'cmd' ? strings.flatMap((s) => s.split(' ').filter(Boolean)) : strings;
}
