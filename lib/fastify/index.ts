/**
 * express-kubelet-auth/fastify: `kubeletAuth` as a Fastify plugin. Same options, same answers
 * (the kubelet's 401, 403, 400 and 500, byte for byte), same metrics and `onDecision` events;
 * the user on `request.kubeUser`. Needs `fastify` 5 and `fastify-plugin` (optional peers, which
 * the package's other entry points never load).
 *
 * @module express-kubelet-auth/fastify
 */
// First: a Node.js / client-node pair that cannot work fails the import, with one clear error.
import '../apiserver/import-check.js';

import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { kubeletGuard } from '../compose/guard.js';
import type { Reply, Verdict } from '../contracts.js';
import type { KubeletAuthOptions } from '../options.js';
import { INTERNAL_ERROR, responseClosed } from '../responses.js';
import { closeIfBodyUnread } from '../unread-body.js';
import type { KubeUser } from '../user.js';
import { fastifyRouteRefusal, fastifyRouting } from './route-check.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who the request is, once {@link fastifyKubeletAuth} has allowed it; `undefined` only on
     * routes outside the context the plugin was registered in.
     */
    kubeUser?: KubeUser;
  }
}

/**
 * Authentication and authorization exactly as the kubelet's secure port, as a Fastify plugin:
 * `kubeletAuth` in an `onRequest` hook. Takes `kubeletAuth`'s options (a KubeletConfiguration's
 * `authentication` and `authorization`, with its defaults). An allowed request goes on with its
 * `KubeUser` on `request.kubeUser`; any other is answered with the kubelet's status and exact
 * body (`text/plain; charset=utf-8`) and reaches no handler; a client that leaves while a review
 * runs gets nothing. A path Fastify's router would dispatch elsewhere than the path authorized
 * is refused with 400. Wrapped with `fastify-plugin`, so it guards every route of the context it
 * is registered in (the root: every route and the 404 handler); closing the instance releases
 * what it holds. Bad options reject `register` (and `ready`) with a `KubeletAuthError`; so does a
 * cluster authentication ConfigMap that cannot be read at start (`clusterAuthentication`), which
 * `register` waits for.
 *
 * @example
 * await app.register(fastifyKubeletAuth, { nodeName: 'node-a', kubeConfig, authentication: { x509: { clientCAFile } } });
 * app.get('/stats/summary', async (request) => ({ servedTo: request.kubeUser?.username }));
 */
export const fastifyKubeletAuth: FastifyPluginAsync<KubeletAuthOptions> = fastifyPlugin(
  kubeletAuthPlugin,
  { fastify: '5.x', name: 'express-kubelet-auth' },
);

export default fastifyKubeletAuth;

async function kubeletAuthPlugin(
  fastify: FastifyInstance,
  options: KubeletAuthOptions,
): Promise<void> {
  const routing = fastifyRouting(fastify.initialConfig);
  const guard = kubeletGuard(options, (req, path) => fastifyRouteRefusal(req, path, routing));
  const { forward, logger } = guard;
  // Released on close even when the app closes while the read below still waits (Fastify's
  // plugin timeout).
  fastify.addHook('onClose', (_instance, done) => {
    guard.close();
    done();
  });
  // The configuration read at start (the cluster's ConfigMap) is in before the app listens, or
  // registering fails, as the Express middleware's `ready` does.
  try {
    await guard.ready;
  } catch (error) {
    guard.close();
    throw error;
  }
  if (!fastify.hasRequestDecorator('kubeUser')) fastify.decorateRequest('kubeUser', undefined);

  /** Sends the kubelet's answer through Fastify, so its own hooks and logging see it. */
  function answer(reply: FastifyReply, { status, body }: Reply): void {
    closeIfBodyUnread(reply.request.raw, reply.raw);
    void reply.code(status).type('text/plain; charset=utf-8').send(body);
  }

  /** Lets the request on to its route as `user`, or answers it: never both, never twice. */
  function carryOut(
    verdict: Verdict,
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void {
    if (verdict.kind === 'reply') return answer(reply, verdict);
    // The client left (or someone answered) while a review ran: nothing to write or run.
    if (verdict.kind === 'gone') return;
    request.kubeUser = verdict.user;
    if (forward && !forward(request.raw)) return answer(reply, INTERNAL_ERROR);
    done();
  }

  /** A verdict that failed to come (a broken authorizer): logged, and a 500. Fail closed. */
  function failed(error: unknown, reply: FastifyReply): void {
    logger.error(`authorization failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!responseClosed(reply.raw)) answer(reply, INTERNAL_ERROR);
  }

  fastify.addHook('onRequest', function kubeletAuthHook(request, reply, done) {
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = guard.decide(request.raw, reply.raw);
    } catch (error) {
      return failed(error, reply);
    }
    if (!(verdict instanceof Promise)) return carryOut(verdict, request, reply, done);
    verdict
      .then((settled) => {
        if (!responseClosed(reply.raw)) carryOut(settled, request, reply, done);
      })
      .catch((error: unknown) => failed(error, reply));
  });
}
