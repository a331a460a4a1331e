/**
 * The floors of scenarios 3 and 4b: their required work alone (4f's is {@link certFloor}).
 *
 * Scenario 3f, the floor: the work required of every warm bearer-token request, and nothing
 * else, written inline as one function. It is what scenario 3 could at best cost here, not a
 * competitor: a lower bound measured on the same machine, with the same load, at the same time.
 *
 * Done, as the package must: read the bearer token; find its cache key with the package's own
 * `tokenKeyFunction` and `perConnectionKeys`: the HMAC-SHA256 under a per-process key once per
 * connection, then the token compared with the connection's last one in constant time; one lookup
 * in a bounded LRU (lru-cache); remove `Authorization` from all three views of the headers
 * (`headers`, `headersDistinct`, `rawHeaders`) with the package's own `removeHeader`; put the
 * user on `req.user`; derive the verb (the package's `kubeletVerb`) and `nodes/<subresource>`;
 * one lookup in a second LRU under a key holding the whole user and the attributes; call
 * `next()`.
 *
 * Left out, which the package does: expiry checks, path validation (400s), the kubelet's full
 * path tables, fine-grained records, other authenticators, anonymous, events and metrics,
 * HTTP/2 requests, errors. (A repeated question's decision key is built anew each time; the
 * package reuses it.)
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { kubeletVerb } from '../../lib/authz/attributes.js';
import { perConnectionKeys } from '../../lib/cache/connection-keys.js';
import { tokenKeyFunction } from '../../lib/cache/token-cache.js';
import { removeHeader } from '../../lib/headers.js';
import { BENCH } from './protocol.js';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

interface FloorUser {
  username: string;
  uid: string;
  groups: string[];
}

/** The floor middleware, its caches filled as scenario 3's are once warm. */
export function tokenFloor(): Middleware {
  const tokenKey = tokenKeyFunction(randomBytes(32), []);
  const user: FloorUser = {
    username: BENCH.user,
    uid: 'uid-bench',
    groups: ['bench', 'system:authenticated'],
  };
  // The user's part of the decision key, made once per user (the package keeps a repeated
  // request's whole key).
  const userKey = JSON.stringify([user.username, user.uid, user.groups, []]);
  const tokens = new LRUCache<string, FloorUser>({ max: 10_000 });
  const decisions = new LRUCache<string, { allowed: boolean }>({ max: 10_000 });
  tokens.set(tokenKey(BENCH.warmToken), user);
  const keyOf = perConnectionKeys(tokenKey);
  decisions.set(`${userKey}\u0000get\u0000nodes\u0000stats\u0000${BENCH.nodeName}`, {
    allowed: true,
  });

  const refuse = (res: ServerResponse, status: number): void => {
    res.statusCode = status;
    res.end();
  };
  return function tokenFloorMiddleware(req, res, next) {
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) return refuse(res, 401);
    const found = tokens.get(keyOf(header.slice(7), req.socket));
    if (found === undefined) return refuse(res, 401);
    removeHeader(req, 'authorization');
    (req as IncomingMessage & { user?: FloorUser }).user = found;
    const decision = decisions.get(decisionKey(userKey, req));
    if (decision?.allowed !== true) return refuse(res, 403);
    next();
  };
}

/** `nodes/<first path segment>` and the verb, under the user's part of the key. */
function decisionKey(userKey: string, req: IncomingMessage): string {
  const url = req.url ?? '/';
  const slash = url.indexOf('/', 1);
  const subresource = url.slice(1, slash === -1 ? undefined : slash);
  const verb = kubeletVerb(req.method ?? '');
  return `${userKey}\u0000${verb}\u0000nodes\u0000${subresource}\u0000${BENCH.nodeName}`;
}

/**
 * Scenario 4f, the certificate's floor: the work required of every warm client-certificate
 * request, inline, as {@link tokenFloor} does for the token. Once per TLS connection (the load
 * generator opens new ones for every slice of the sliced A/B): the peer certificate is parsed,
 * its signature checked against the client CA and its validity period against the clock, and its
 * subject taken as the user. Per request: the connection's user found, `req.user` set, the verb
 * and `nodes/<subresource>` derived, one lookup in a bounded LRU (lru-cache) under a key holding
 * the whole user and the attributes, `next()`.
 *
 * Left out, which the package does: intermediate certificates, key usages and the rest of the
 * chain rules, re-checking a connection when the CA file changes or the certificate expires,
 * path validation (400s), the kubelet's full path tables, fine-grained records, the decision's
 * expiry, the other authenticators, events and metrics, errors.
 */
export function certFloor(clientCA: string): Middleware {
  const ca = new X509Certificate(clientCA);
  const users = new WeakMap<object, { user: FloorUser; key: string }>();
  const decisions = new LRUCache<string, { allowed: boolean }>({ max: 10_000 });
  return function certFloorMiddleware(req, res, next) {
    const socket = req.socket as TLSSocket;
    let known = users.get(socket);
    if (known === undefined) {
      const peer = socket.getPeerCertificate();
      const leaf = peer.raw ? new X509Certificate(peer.raw) : undefined;
      const now = Date.now();
      const subject = peer.subject as { CN?: string; O?: string | string[] } | undefined;
      if (
        !leaf?.verify(ca.publicKey) ||
        now < Date.parse(leaf.validFrom) ||
        now > Date.parse(leaf.validTo) ||
        !subject?.CN
      ) {
        res.statusCode = 401;
        res.end();
        return;
      }
      const groups = subject.O === undefined ? [] : [subject.O].flat();
      const user = { username: subject.CN, uid: '', groups: [...groups, 'system:authenticated'] };
      known = { user, key: JSON.stringify([user.username, user.uid, user.groups, []]) };
      users.set(socket, known);
    }
    (req as IncomingMessage & { user?: FloorUser }).user = known.user;
    const key = decisionKey(known.key, req);
    let decision = decisions.get(key);
    if (decision === undefined) {
      // Warm, as scenario 4b's cache is once the first request asked.
      decision = { allowed: true };
      decisions.set(key, decision);
    }
    if (!decision.allowed) {
      res.statusCode = 403;
      res.end();
      return;
    }
    next();
  };
}
