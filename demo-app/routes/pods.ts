/**
 * `/pods` (the kubelet's pods) and `/runningpods/` (what the runtime runs): GET only. Both are
 * written by apimachinery's JSON serializer, which ends them with a newline.
 */
import express from 'express';
import type { Response, Router } from 'express';
import { podList, runningPodList } from '../payloads/pod-list.js';
import type { RouteContext } from './context.js';
import { onlyMethods, send } from './http-answers.js';

export function podsRoutes(ctx: RouteContext): Router {
  const router = express.Router();
  const sendList = (res: Response, list: unknown): void =>
    send(res, 200, 'application/json', `${JSON.stringify(list)}\n`);
  router.all('/pods', onlyMethods('GET'), (_req, res) => sendList(res, podList(ctx.model)));
  router.all('/runningpods', onlyMethods('GET'), (_req, res) =>
    sendList(res, runningPodList(ctx.model)),
  );
  return router;
}
