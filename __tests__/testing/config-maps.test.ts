import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import {
  extensionApiserverAuthentication,
  startApiServer,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';

/** The stand-in API server's ConfigMaps, read on the wire as kube-apiserver's are. */
const NS = 'kube-system';
const NAME = 'extension-apiserver-authentication';
const COLLECTION = `/api/v1/namespaces/${NS}/configmaps`;
const BY_NAME = `${COLLECTION}?fieldSelector=metadata.name%3D${NAME}`;

let api: StandInApiServer;

beforeAll(async () => {
  api = await startApiServer();
  registerSecrets(api.callerToken, api.authority.key);
});
afterEach(() => {
  api.dropWatches();
  api.deleteConfigMap(NS, NAME);
  api.configMapRequests.length = 0;
});
afterAll(() => api.close());

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every chunk as it arrived. */
  chunks: string[];
  body: string;
}

/** A GET with the caller token; resolves when the answer ends (`watch` answers: when dropped). */
function get(
  path: string,
  server: StandInApiServer = api,
  token = server.callerToken,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        ca: server.ca,
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            chunks,
            body: chunks.join(''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The watch events of a watch answer, one JSON object per line. */
function events(raw: Raw): { type: string; object: Record<string, unknown> }[] {
  return raw.body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { type: string; object: Record<string, unknown> });
}

function rv(object: unknown): number {
  return Number((object as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
}

describe('stand-in API server: ConfigMaps', () => {
  it('answers a get with the object, and a missing one with a 404 Status', async () => {
    api.setConfigMap(NS, NAME, { 'client-ca-file': 'pem' });
    const found = await get(`${COLLECTION}/${NAME}`);
    expect(found.status).toBe(200);
    expect(JSON.parse(found.body)).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: {
        name: NAME,
        namespace: NS,
        uid: expect.any(String),
        resourceVersion: expect.stringMatching(/^\d+$/),
        creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
      data: { 'client-ca-file': 'pem' },
    });
    const missing = await get(`${COLLECTION}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'configmaps' },
      code: 404,
    });
  });

  it('lists by name with the current resourceVersion, which is newer than an old object’s', async () => {
    api.setConfigMap(NS, NAME, { a: '1' });
    api.setConfigMap(NS, 'other', { b: '2' });
    const list = JSON.parse((await get(BY_NAME)).body) as {
      kind: string;
      metadata: { resourceVersion: string };
      items: { metadata: { name: string } }[];
    };
    expect(list.kind).toBe('ConfigMapList');
    expect(list.items.map((i) => i.metadata.name)).toEqual([NAME]);
    expect(Number(list.metadata.resourceVersion)).toBe(rv(list.items[0]) + 1);
    api.deleteConfigMap(NS, 'other');
  });

  it('streams the watch events after a resourceVersion as JSON lines in a chunked answer', async () => {
    api.setConfigMap(NS, NAME, { a: '1' });
    const from = rv(JSON.parse((await get(`${COLLECTION}/${NAME}`)).body));
    api.setConfigMap(NS, NAME, { a: '2' });
    const watched = api.nextWatch();
    const answer = get(`${BY_NAME}&watch=1&resourceVersion=${from}`);
    expect(await watched).toEqual({
      verb: 'watch',
      namespace: NS,
      name: NAME,
      resourceVersion: String(from),
    });
    api.setConfigMap(NS, 'other', { ignored: 'yes' });
    api.deleteConfigMap(NS, NAME);
    api.setConfigMap(NS, NAME, { a: '3' });
    api.dropWatches();
    const raw = await answer;
    expect(raw.status).toBe(200);
    expect(raw.headers['transfer-encoding']).toBe('chunked');
    expect(raw.headers['content-type']).toBe('application/json');
    expect(raw.chunks.every((chunk) => chunk.endsWith('\n'))).toBe(true);
    const seen = events(raw);
    expect(seen.map((e) => [e.type, (e.object['data'] as Record<string, string>)['a']])).toEqual([
      ['MODIFIED', '2'],
      ['DELETED', '2'],
      ['ADDED', '3'],
    ]);
    const versions = seen.map((e) => rv(e.object));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBeGreaterThan(from);
    api.deleteConfigMap(NS, 'other');
  });

  it('watches without a resourceVersion: what exists now comes as ADDED', async () => {
    api.setConfigMap(NS, NAME, { a: '1' });
    const answer = get(`${BY_NAME}&watch=true`);
    await api.nextWatch();
    api.dropWatches();
    expect(events(await answer).map((e) => e.type)).toEqual(['ADDED']);
  });

  it('tells a watch from a compacted resourceVersion that it expired (410), as an ERROR event', async () => {
    api.setConfigMap(NS, NAME, { a: '1' });
    const old = rv(JSON.parse((await get(`${COLLECTION}/${NAME}`)).body));
    api.setConfigMap(NS, NAME, { a: '2' });
    const open = get(`${BY_NAME}&watch=1&resourceVersion=${old}`);
    await api.nextWatch();
    api.dropWatches({ expired: true });
    const dropped = events(await open);
    expect(dropped.at(-1)).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/),
        reason: 'Expired',
        code: 410,
      },
    });
    // A new watch from the old resourceVersion is refused the same way, and ends.
    const again = await get(`${BY_NAME}&watch=1&resourceVersion=${old}`);
    expect(again.status).toBe(200);
    expect(events(again)).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ code: 410 }) },
    ]);
  });

  it('ends a watch after timeoutSeconds, as the API server does', async () => {
    const raw = await get(`${BY_NAME}&watch=1&timeoutSeconds=1`);
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('');
  });

  it.each([
    [
      'a field selector it does not serve',
      `${COLLECTION}?fieldSelector=status.phase%3DRunning`,
      400,
    ],
    ['a malformed resourceVersion', `${BY_NAME}&watch=1&resourceVersion=abc`, 400],
  ])('answers %s with %p', async (_case, path, status) => {
    expect((await get(path)).status).toBe(status);
  });

  it('needs a caller it knows (401)', async () => {
    expect((await get(BY_NAME, api, 'not-the-caller-token')).status).toBe(401);
  });
});

describe('stand-in API server: ConfigMap reads authorized with RBAC (authorizeReads)', () => {
  let guarded: StandInApiServer;
  beforeAll(async () => {
    guarded = await startApiServer({ authorizeReads: true, policy: { defaults: true } });
    registerSecrets(guarded.callerToken, guarded.authority.key);
    guarded.setConfigMap(NS, NAME, extensionApiserverAuthentication({ clientCA: 'pem' }));
    guarded.setConfigMap(NS, 'other', {});
  });
  afterAll(() => guarded.close());

  it('refuses a caller without RBAC with kube-apiserver’s 403', async () => {
    const answer = await get(BY_NAME, guarded);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'configmaps "extension-apiserver-authentication" is forbidden: User "system:node:node-a" cannot list resource "configmaps" in API group "" in the namespace "kube-system"',
      details: { name: NAME, kind: 'configmaps' },
    });
  });

  it('lets the bootstrap Role extension-apiserver-authentication-reader, once bound, read that ConfigMap only', async () => {
    guarded.setPolicy({
      defaults: true,
      rbac: `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: my-server:authentication-reader
  namespace: kube-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: extension-apiserver-authentication-reader
subjects:
  - kind: Group
    name: system:nodes
    apiGroup: rbac.authorization.k8s.io
`,
    });
    expect((await get(BY_NAME, guarded)).status).toBe(200);
    expect((await get(`${COLLECTION}/${NAME}`, guarded)).status).toBe(200);
    const watch = get(`${BY_NAME}&watch=1`, guarded);
    await guarded.nextWatch();
    guarded.dropWatches();
    expect((await watch).status).toBe(200);
    expect((await get(`${COLLECTION}/other`, guarded)).status).toBe(403);
    expect((await get(COLLECTION, guarded)).status).toBe(403);
  });
});

describe('extensionApiserverAuthentication()', () => {
  it('writes the keys kube-apiserver writes, lists as JSON arrays', () => {
    expect(
      extensionApiserverAuthentication({
        clientCA: 'client-pem',
        requestHeaderCA: 'proxy-pem',
        allowedNames: ['front-proxy-client'],
      }),
    ).toEqual({
      'client-ca-file': 'client-pem',
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-client-ca-file': 'proxy-pem',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-uid-headers': '["X-Remote-Uid"]',
      'requestheader-username-headers': '["X-Remote-User"]',
    });
    expect(extensionApiserverAuthentication({ clientCA: 'client-pem' })).toEqual({
      'client-ca-file': 'client-pem',
    });
  });
});
