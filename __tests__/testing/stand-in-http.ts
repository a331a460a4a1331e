/**
 * Plain HTTPS calls to a stand-in API server, authenticated with its caller token and trusting
 * its CA: for bodies client-node would not send, and for the exact answers it would hide.
 */
import { request } from 'node:https';
import type { StandInApiServer } from '../../lib/testing/index.js';

export const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
export const SARS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs `body` (serialized as is when a string) and parses the JSON answer. */
export function post(server: StandInApiServer, path: string, body: unknown): Promise<Answer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        ca: server.ca,
        headers: {
          Authorization: `Bearer ${server.callerToken}`,
          'Content-Type': 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            resolve({ status: res.statusCode ?? 0, body: parsed as Record<string, unknown> });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A SubjectAccessReview body around `spec`. */
export function sarBody(spec: unknown): Record<string, unknown> {
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
}

/** Sends a SubjectAccessReview; resolves to `status.allowed`, rejecting on any non-201. */
export async function allowed(server: StandInApiServer, spec: unknown): Promise<boolean> {
  const answer = await post(server, SARS, sarBody(spec));
  if (answer.status !== 201) {
    throw new Error(
      `SubjectAccessReview answered ${answer.status}: ${JSON.stringify(answer.body)}`,
    );
  }
  return (answer.body['status'] as { allowed: boolean }).allowed;
}
