import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Just enough of a `ServerResponse` for the middleware to answer an HTTP upgrade request on its
 * raw socket (401, 403, 400, 500 with the kubelet's bodies), after which the socket is closed.
 * Nothing is written to a socket that is no longer writable (the client left while the reviews
 * ran): it is destroyed instead.
 */
export function socketResponse(socket: Duplex): ServerResponse {
  const headers = new Map<string, string | number>();
  let sent = false;
  const response = {
    statusCode: 200,
    get headersSent(): boolean {
      return sent;
    },
    get writableEnded(): boolean {
      return sent;
    },
    get destroyed(): boolean {
      return socket.destroyed;
    },
    setHeader(name: string, value: string | number) {
      headers.set(name, value);
      return response;
    },
    end(body?: string) {
      if (sent) return response;
      sent = true;
      if (socket.destroyed || !socket.writable) {
        socket.destroy();
        return response;
      }
      const text = body ?? '';
      const lines = [`HTTP/1.1 ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ''}`];
      for (const [name, value] of headers) lines.push(`${name}: ${value}`);
      if (!headers.has('Content-Length')) lines.push(`Content-Length: ${Buffer.byteLength(text)}`);
      lines.push('Connection: close');
      // Closed once the answer is out, whether or not the client closes its side.
      socket.once('finish', () => socket.destroy());
      socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
      return response;
    },
    destroy() {
      socket.destroy();
      return response;
    },
  };
  return response as unknown as ServerResponse;
}
