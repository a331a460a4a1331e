import type { Server, Socket } from 'node:net';

/**
 * Turns a test server's listening off (refusing connections, dropping open ones) and on again
 * on the same port, in the order asked, however quickly calls follow one another. Once
 * `closing()` is true, it does nothing.
 */
export function listeningSwitch(
  server: Server,
  port: number,
  sockets: ReadonlySet<Socket>,
  closing: () => boolean,
): (wanted: boolean) => Promise<void> {
  let listening = true;
  let transition = Promise.resolve();
  return (wanted) => {
    transition = transition.then(
      () =>
        new Promise<void>((resolve) => {
          if (closing() || listening === wanted) return resolve();
          listening = wanted;
          if (wanted) {
            server.listen(port, '127.0.0.1', () => resolve());
            return;
          }
          server.close(() => resolve());
          (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
          for (const socket of sockets) socket.destroy();
        }),
    );
    return transition;
  };
}
