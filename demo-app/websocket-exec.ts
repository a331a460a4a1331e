/**
 * WebSocket `exec`, `attach` and `portForward` for the mock kubelet. Upgrades never pass through
 * the Express app, so Go's multiplexer (`kubeletMux`) answers them first here too, and they are
 * guarded with `kubeletUpgradeAuth` and the same `kubeletAuth` middleware: same authentication (the `Sec-WebSocket-Protocol` bearer token included), same
 * SubjectAccessReview (`get` on `nodes/proxy`, as a WebSocket exec is on the kubelet). An allowed
 * upgrade gets a harmless echo: a line saying nothing runs, then every message sent back.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { kubeletUpgradeAuth, kubeUser, type Middleware } from 'express-kubelet-auth';
import { routedPath } from 'express-kubelet-auth/kubelet';
import { quoted } from 'express-kubelet-auth/parts';
import { logValue } from './request-log.js';
import { NOT_FOUND, type Answer } from './routes/http-answers.js';

const STREAMING = /^\/(exec|attach|portForward)\/[^/]+\/[^/]+(\/[^/]+){0,2}$/;

export function serveWebSocketStreams(
  server: Server,
  auth: Middleware,
  log: (line: string) => void,
  mux: (method: string, target: string) => Answer | undefined,
): void {
  const guard = kubeletUpgradeAuth(auth);
  // Kubernetes clients offer channel protocols (v4.channel.k8s.io, v5.channel.k8s.io): take the
  // first one left once the token's entry was removed.
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = performance.now();
    // As on the kubelet, Go's multiplexer answers first: a path no endpoint covers, or one it
    // would clean, never reaches authentication.
    const muxAnswer = mux(req.method ?? 'GET', req.url ?? '/');
    // As the guard authorizes it: absolute-form targets (`GET http://node-a/exec/…`) included.
    const path = routedPath(req.url ?? '/') ?? '/';
    /** One line per upgrade: who, and how it ended (an answer's status, refused, open). */
    const logUpgrade = (user: string, outcome: string | number, at = performance.now()): void => {
      const took = `${(at - started).toFixed(1)}ms`;
      log(
        `${new Date().toISOString()} method=${logValue(req.method ?? '')} path=${logValue(path)} user=${quoted(user)} websocket=${outcome} latency=${took}`,
      );
    };
    if (muxAnswer) {
      logUpgrade('-', muxAnswer.status);
      return answer(socket, muxAnswer);
    }
    void guard(req, socket).then((allowed) => {
      const decided = performance.now();
      const user = kubeUser(req)?.username ?? '-';
      if (!allowed) {
        logUpgrade(user, 'refused');
        return;
      }
      // As the kubelet: a path under an endpoint that no route serves is 404, after authorization.
      if (!STREAMING.test(path)) return answer(socket, NOT_FOUND);
      wss.handleUpgrade(req, socket, head, (ws) => {
        logUpgrade(user, 'open', decided);
        ws.send(
          `mock-kubelet: ${path.split('/')[1]} is simulated: nothing runs; messages are echoed`,
        );
        // A malformed frame or a stream cut short ends this stream (ws closes it), nothing else.
        ws.on('error', (error) =>
          log(
            `${new Date().toISOString()} path=${path} user=${JSON.stringify(user)} websocket=error error=${JSON.stringify(error.message)}`,
          ),
        );
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
    });
  });
}

/**
 * Writes `answer` on an upgrade's socket and closes it once written; a socket the client
 * already left (while the reviews ran) is only destroyed.
 */
function answer(socket: Duplex, { status, headers, body }: Answer): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    ...Object.entries({
      ...headers,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    }).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
