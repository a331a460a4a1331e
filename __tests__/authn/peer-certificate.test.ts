import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConnectionVerdicts, type PeerSocket } from '../../lib/authn/peer-certificate.js';
import { close, makePki, type Pki } from '../integration/harness.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

describe('ConnectionVerdicts over real TLS connections', () => {
  let server: Server | undefined;
  afterAll(async () => {
    if (server) await close(server);
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    '%s: verifies once for three requests on one connection; reads the handshake per request only where renegotiation exists',
    async (version) => {
      const verdicts = new ConnectionVerdicts<string>();
      let verifications = 0;
      let handshakeReads = 0;
      const counted = new WeakSet<TLSSocket>();
      server = createServer(
        {
          key: pki.serving.key,
          cert: pki.serving.cert,
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: version,
          maxVersion: version,
        },
        (req: IncomingMessage, res: ServerResponse) => {
          const socket = req.socket as TLSSocket;
          if (!counted.has(socket)) {
            // Count reads of the handshake message, still answered by Node.
            counted.add(socket);
            const real = socket.getFinished.bind(socket);
            socket.getFinished = () => {
              handshakeReads++;
              return real();
            };
          }
          const verdict = verdicts.get(socket, socket, 1, Date.now(), () => {
            verifications++;
            return { value: `${socket.getProtocol()} verdict`, validUntil: Infinity };
          });
          res.end(verdict);
        },
      );
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const agent = new Agent({
        keepAlive: true,
        maxSockets: 1,
        ca: pki.serving.cert,
        cert: pki.certs.alice.cert,
        key: pki.certs.alice.key,
      });
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) {
        bodies.push(
          await new Promise<string>((resolve, reject) => {
            const req = httpsRequest(
              { host: '127.0.0.1', port, path: '/', servername: 'localhost', agent },
              (res) => {
                let body = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => (body += c));
                res.on('end', () => resolve(body));
              },
            );
            req.on('error', reject);
            req.end();
          }),
        );
      }
      agent.destroy();
      await close(server);
      server = undefined;

      expect(bodies).toEqual([1, 2, 3].map(() => `${version} verdict`));
      expect(verifications).toBe(1);
      // TLS 1.2: once when verifying, then once per later request to compare; TLS 1.3: never.
      expect(handshakeReads).toBe(version === 'TLSv1.2' ? 3 : 0);
    },
  );
});

describe('ConnectionVerdicts: what makes it verify again', () => {
  /** A socket as far as ConnectionVerdicts looks at it: a protocol and a handshake message. */
  function socketOf(protocol: string | undefined): PeerSocket & { finished: Buffer } {
    const socket = {
      finished: Buffer.from('first handshake'),
      getPeerCertificate: () => ({}),
      getFinished: () => socket.finished,
      ...(protocol === undefined ? {} : { getProtocol: () => protocol }),
    };
    return socket;
  }

  it.each([
    ['a TLSv1.2', 2, 'TLSv1.2'],
    ['a TLSv1', 2, 'TLSv1'],
    // A socket that cannot tell its version is taken as one that can renegotiate.
    ['an unknown-version', 2, undefined],
    // TLS 1.3 has no renegotiation: its handshake is not looked at again.
    ['a TLSv1.3', 1, 'TLSv1.3'],
  ] as const)(
    'a new handshake on %s connection: %i verification(s)',
    (_name, expected, protocol) => {
      const verdicts = new ConnectionVerdicts<number>();
      let verifications = 0;
      const socket = socketOf(protocol);
      const verify = () => ({ value: ++verifications, validUntil: Infinity });
      verdicts.get(socket, socket, 1, 0, verify);
      verdicts.get(socket, socket, 1, 0, verify);
      expect(verifications).toBe(1);
      socket.finished = Buffer.from('renegotiated handshake');
      verdicts.get(socket, socket, 1, 0, verify);
      verdicts.get(socket, socket, 1, 0, verify);
      expect(verifications).toBe(expected);
    },
  );

  it.each(['TLSv1.2', 'TLSv1.3'])(
    '%s: a new CA bundle version, or the verdict running out, verifies again',
    (protocol) => {
      const verdicts = new ConnectionVerdicts<number>();
      let verifications = 0;
      const socket = socketOf(protocol);
      const verify = () => ({ value: ++verifications, validUntil: 100 });
      expect(verdicts.get(socket, socket, 1, 0, verify)).toBe(1);
      expect(verdicts.get(socket, socket, 1, 100, verify)).toBe(1);
      expect(verdicts.get(socket, socket, 2, 100, verify)).toBe(2);
      expect(verdicts.get(socket, socket, 2, 101, verify)).toBe(3);
    },
  );
});
