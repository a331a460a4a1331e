import type { IncomingMessage, ServerResponse } from 'node:http';
import { stderrLogger, type Logger } from '../logger.js';
import {
  writeAuthorizationError,
  writeBadRequest,
  writeForbidden,
  writeText,
  writeUnauthorized,
} from '../responses.js';
import { kubeUser, type KubeUser } from '../user.js';
import { kubeletRequestAttributes, type Attributes } from './attributes.js';
import { authorizeSafely, type Authorizer } from './authorizer.js';
import { requestPath } from './request-path.js';

/** A Connect/Express middleware. */
export type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Derives the attribute records to ask about, in order; the first `Allow` lets the request in. */
export type AttributesFunction = (
  req: IncomingMessage & { originalUrl?: string },
  user: KubeUser,
  path: string,
) => Attributes[];

/** Options of {@link kubeletAuthz}. */
export interface KubeletAuthzOptions {
  /** Decides each attribute record (e.g. `webhookAuthorizer({ kubeConfig })`, `alwaysAllow()`). Required. */
  authorizer: Authorizer;
  /** The node name: `resourceAttributes.name`. Required unless `attributes` is given. */
  nodeName?: string;
  /** Fine-grained kubelet authorization (`nodes/pods` before `nodes/proxy`, …). Default: `true`. */
  fineGrained?: boolean;
  /** Your own attribute derivation, for apps that are not kubelets. Default: the kubelet's. */
  attributes?: AttributesFunction;
  /** Where authorization errors are reported. Default: standard error. */
  logger?: Logger;
}

/** Authorizes one request whose user and decoded path are known; answers or calls `next`. */
export type AuthorizationStep = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
  user: KubeUser,
  path: string,
) => void;

/**
 * Authorizes each request as the kubelet does, after authentication put a `KubeUser` on
 * `req.user`: derive the attribute records (verb from the method, `nodes/<subresource>` from the
 * decoded path), ask them in order; the first `Allow` calls `next()`. All denied → 403
 * `Forbidden (…)`; an authorizer error → 500 `Authorization error (…)`; no user → 401; a path
 * the router could read otherwise → 400.
 *
 * @example app.use(kubeletAuthz({ nodeName: 'node-a', authorizer: webhookAuthorizer({ kubeConfig }) }));
 */
export function kubeletAuthz(options: KubeletAuthzOptions): Middleware {
  const authorize = authorizationStep(options);
  return function kubeletAuthzMiddleware(req, res, next) {
    const user = kubeUser(req);
    if (!user) return writeUnauthorized(res);
    const path = requestPath(req);
    if (path === undefined) return writeBadRequest(res);
    authorize(req, res, next, user, path);
  };
}

/**
 * The authorization of {@link kubeletAuthz}, for callers that know the user and path already.
 * Answers from `authorizer.peek` while it can (so a request whose decisions are cached passes
 * synchronously) and awaits `authorize` from the first record that needs it.
 */
export function authorizationStep(options: KubeletAuthzOptions): AuthorizationStep {
  const { authorizer } = options;
  if (!authorizer || typeof authorizer.authorize !== 'function') {
    throw new TypeError(
      'kubeletAuthz: authorizer is required (e.g. webhookAuthorizer({ kubeConfig }))',
    );
  }
  const logger = options.logger ?? stderrLogger;
  const derive = options.attributes ?? kubeletAttributesFunction(options);
  const peek = authorizer.peek?.bind(authorizer);

  function failed(res: ServerResponse, record: Attributes, error: Error): void {
    logger.warn(
      `authorization error for user ${JSON.stringify(record.user.username)} on ${record.resource}/${record.subresource}: ${error.message}`,
    );
    writeAuthorizationError(res, record);
  }

  async function decideFrom(
    attributes: Attributes[],
    start: number,
    res: ServerResponse,
  ): Promise<boolean> {
    for (let i = start; i < attributes.length; i++) {
      const record = attributes[i] as Attributes;
      const result = await authorizeSafely(authorizer, record);
      if (result.error) {
        failed(res, record, result.error);
        return false;
      }
      if (result.decision === 'Allow') return true;
    }
    writeForbidden(res, attributes);
    return false;
  }

  return function authorizeRequest(req, res, next, user, path) {
    let attributes: Attributes[];
    try {
      attributes = derive(req, user, path);
    } catch (error) {
      // A throwing attributes function: fail closed.
      logger.warn(
        `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return writeText(res, 500, 'Internal Server Error');
    }
    for (let i = 0; i < attributes.length; i++) {
      const record = attributes[i] as Attributes;
      const known = peek?.(record);
      if (known === undefined) {
        decideFrom(attributes, i, res)
          .then((allowed) => {
            if (allowed) next();
          })
          .catch((error: unknown) => {
            // Only a broken authorizer or a throwing `next` gets here: fail closed, answer once.
            logger.warn(
              `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
            );
            writeText(res, 500, 'Internal Server Error');
          });
        return;
      }
      if (known.error) return failed(res, record, known.error);
      if (known.decision === 'Allow') return next();
    }
    writeForbidden(res, attributes);
  };
}

function kubeletAttributesFunction(options: KubeletAuthzOptions): AttributesFunction {
  const { nodeName } = options;
  if (typeof nodeName !== 'string' || nodeName === '') {
    throw new TypeError(
      'kubeletAuthz: nodeName is required (the name of the Node the kubelet serves)',
    );
  }
  const fineGrained = options.fineGrained ?? true;
  return (req, user, path) =>
    kubeletRequestAttributes(user, req.method ?? '', path, { nodeName, fineGrained });
}
