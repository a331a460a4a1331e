/**
 * A bare HTTPS client for the tests: one request per connection, optional client certificate
 * and bearer token, and the server's certificate trusted explicitly (or not checked at all for
 * the kubelet's self-signed one).
 */
import { request } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface HttpsOptions {
  method?: string;
  /** PEM to trust; absent: do not verify the server (a self-signed kubelet certificate). */
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  peerCertificate: PeerCertificate;
}

export function httpsRequest(url: string, options: HttpsOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        agent: false,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: options.ca !== undefined,
      },
      (res) => {
        const peerCertificate = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peerCertificate }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
