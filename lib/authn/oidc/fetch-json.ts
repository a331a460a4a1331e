import { request } from 'node:https';
import { KubeletAuthError } from '../../errors.js';

/** How {@link fetchJson} reaches the issuer. */
export interface FetchJsonOptions {
  /** PEM of the CAs to trust instead of Node.js's roots. */
  ca: string | undefined;
  /** The request is abandoned after this many ms. */
  timeoutMs: number;
  /** The body is abandoned past this many bytes. */
  maxBytes: number;
}

/**
 * GETs `url` over HTTPS and parses the body as JSON, for an issuer's discovery document and key
 * set. Anything but 200 with JSON within the time and size limits rejects with
 * `ERR_OIDC_UNAVAILABLE`, whose message says what (`what`) failed and why. Redirects are not
 * followed. No connection is kept: the issuer is asked rarely.
 */
export function fetchJson(url: string, what: string, options: FetchJsonOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string, cause?: unknown): void =>
      reject(new KubeletAuthError('ERR_OIDC_UNAVAILABLE', `${what} ${url}: ${reason}`, { cause }));
    const req = request(
      url,
      {
        method: 'GET',
        agent: false,
        headers: { accept: 'application/json' },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        if (res.statusCode !== 200) {
          fail(`HTTP ${String(res.statusCode)}`);
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > options.maxBytes) {
            fail(`larger than ${options.maxBytes} bytes`);
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            fail('not JSON', error);
          }
        });
        res.on('error', (error) => fail(error.message, error));
      },
    );
    const timer = setTimeout(() => {
      fail(`no answer within ${options.timeoutMs} ms`);
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error) => fail(error.message, error));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}
