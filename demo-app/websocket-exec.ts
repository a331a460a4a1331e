/**
 * WebSocket `exec`, `attach` and `portForward` for the mock kubelet. Upgrades never pass through
 * the Express app, so they are guarded with `kubeletUpgradeAuth` and the same `kubeletAuth`
 * middleware: same authentication (the `Sec-WebSocket-Protocol` bearer token included), same
 * SubjectAccessReview (`get` on `nodes/proxy`, as a WebSocket exec is on the kubelet). An allowed
 * upgrade gets a harmless echo: a line saying nothing runs, then every message sent back.
 */
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { kubeletUpgradeAuth, kubeUser, type Middleware } from 'express-kubelet-auth';
import { routedPath } from 'express-kubelet-auth/kubelet';
import { quoted } from 'express-kubelet-auth/parts';
import { logValue } from './request-log.js';

const STREAMING = /^\/(exec|attach|portForward)\/[^/]+\/[^/]+(\/[^/]+){0,2}$/;

export function serveWebSocketStreams(
  server: Server,
  auth: Middleware,
  log: (line: string) => void,
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
    // As the guard authorized it: absolute-form targets (`GET http://node-a/exec/…`) included.
    const path = routedPath(req.url ?? '/') ?? '/';
    void guard(req, socket).then((allowed) => {
      const user = kubeUser(req)?.username ?? '-';
      const took = `${(performance.now() - started).toFixed(1)}ms`;
      if (!allowed) {
        log(
          `${new Date().toISOString()} method=${logValue(req.method ?? '')} path=${logValue(path)} user=${quoted(user)} websocket=refused latency=${took}`,
        );
        return;
      }
      if (!STREAMING.test(path)) {
        // As the kubelet: unknown paths are 404, after authorization; closed once written.
        socket.once('finish', () => socket.destroy());
        socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 18\r\nConnection: close\r\n\r\n404 page not found',
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        log(
          `${new Date().toISOString()} method=${logValue(req.method ?? '')} path=${logValue(path)} user=${quoted(user)} websocket=open latency=${took}`,
        );
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
