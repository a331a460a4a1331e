/**
 * A server guarding WebSocket upgrades with `kubeletUpgradeAuth`, in a process of its own so that
 * an uncaught exception ends this process, not the test's. Driven over IPC by
 * `upgrade-reset.test.ts`: it reports each upgrade, its guard's result and its socket's close;
 * it does the (stand-in) handshake only when told to, so a client can leave between the review
 * and the handshake. Upgrades to `/late/…` call the guard only once their
 * socket has closed, as an app that awaited something first would.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeletAuth, kubeletUpgradeAuth } from '../../../lib/index.js';

export interface GuardedServerConfig {
  protocol: 'http' | 'https';
  kubeconfig: string;
  serving: { cert: string; key: string };
  /** The review timeout, so that a hung API server's reviews end within the test. */
  timeout: string;
}

export type FromGuardedServer =
  | { event: 'listening'; port: number }
  | { event: 'upgrade'; id: string }
  | { event: 'guarded'; id: string; allowed: boolean }
  | { event: 'closed'; id: string }
  | { event: 'pong' };

export type ToGuardedServer =
  | { type: 'start'; config: GuardedServerConfig }
  | { type: 'handshake'; id: string }
  | { type: 'ping' }
  | { type: 'stop' };

const send = (message: FromGuardedServer): void => {
  // Sockets closed while stopping report after the channel is gone: nobody listens then.
  if (process.connected) process.send?.(message);
};

function start(config: GuardedServerConfig): void {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(config.kubeconfig);
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig,
    timeout: config.timeout,
    logger: { warn: () => undefined },
  });
  const guard = kubeletUpgradeAuth(auth);
  const allowedSockets = new Map<string, Duplex>();
  const answer = (_req: IncomingMessage, res: ServerResponse): void => {
    res.end('ordinary request');
  };
  const server =
    config.protocol === 'https'
      ? createHttpsServer({ cert: config.serving.cert, key: config.serving.key }, answer)
      : createHttpServer(answer);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const id = (req.url ?? '').split('?')[0] ?? '';
    send({ event: 'upgrade', id });
    socket.once('close', () => send({ event: 'closed', id }));
    const run = (): void => {
      void guard(req, socket).then((allowed) => {
        if (allowed) allowedSockets.set(id, socket);
        send({ event: 'guarded', id, allowed });
      });
    };
    if (!id.startsWith('/late/')) return run();
    // This app handles the socket's errors itself until it calls the guard.
    socket.on('error', () => undefined);
    socket.once('close', run);
  });
  process.on('message', (message: ToGuardedServer) => {
    if (message.type === 'handshake') {
      // What a WebSocket library would write once the guard allowed the upgrade.
      allowedSockets
        .get(message.id)
        ?.end(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        );
    } else if (message.type === 'ping') {
      send({ event: 'pong' });
    } else if (message.type === 'stop') {
      // Upgraded sockets are the app's own, not the server's: it closes them when it stops (a
      // client's reset on one is seen only once it is read or written).
      for (const socket of allowedSockets.values()) socket.destroy();
      server.closeAllConnections();
      server.close(() => {
        auth.close();
        process.disconnect();
      });
    }
  });
  server.listen(0, '127.0.0.1', () =>
    send({ event: 'listening', port: (server.address() as AddressInfo).port }),
  );
}

process.once('message', (message: ToGuardedServer) => {
  if (message.type === 'start') start(message.config);
});
