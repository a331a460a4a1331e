import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createKubeletApp } from '../../demo-app/app.js';
import { createNodeModel } from '../../demo-app/payloads/node-model.js';
import type { RouteContext } from '../../demo-app/routes/index.js';
import { DEFAULT_LOGS_ROOT } from '../../demo-app/server.js';
import { FLAG_DEFAULTS } from '../../demo-app/settings.js';
import type { Settings } from '../../demo-app/settings.js';

const STARTED = new Date('2026-04-21T09:00:00Z');
const NOW = new Date('2026-04-21T10:00:00Z');

function context(settings: Partial<Settings> = {}): RouteContext {
  return {
    model: createNodeModel('node-a', STARTED),
    settings: { ...FLAG_DEFAULTS, ...settings },
    logsRoot: DEFAULT_LOGS_ROOT,
    now: () => NOW,
  };
}

const app = createKubeletApp({ context: context() });
const model = createNodeModel('node-a', STARTED);
const web = model.pods.find((pod) => pod.namespace === 'default');
if (!web) throw new Error('the model has a pod in default');
const webPath = `default/${web.name}`;

type Json = Record<string, unknown> & { items: Json[] };

describe('/healthz', () => {
  it.each(['/healthz', '/healthz/ping', '/healthz/log', '/healthz/syncloop'])(
    'GET %s → ok',
    async (path) => {
      const res = await request(app).get(path);
      expect(res.status).toBe(200);
      expect(res.text).toBe('ok');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    },
  );

  it('?verbose lists every check, in the order the kubelet installs them', async () => {
    const res = await request(app).get('/healthz?verbose');
    expect(res.text).toBe('[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('?exclude skips a check, and names those that match none', async () => {
    const res = await request(app).get('/healthz?verbose&exclude=log&exclude=zeta&exclude=nope');
    expect(res.text).toBe(
      '[+]ping ok\n[+]log excluded: ok\n[+]syncloop ok\n' +
        'warn: some health checks cannot be excluded: no matches for "nope","zeta"\n' +
        'healthz check passed\n',
    );
    expect((await request(app).get('/healthz?exclude=log')).text).toBe('ok');
  });

  it('one check alone is a plain handler: ok, without nosniff', async () => {
    const res = await request(app).get('/healthz/syncloop');
    expect(res.text).toBe('ok');
    expect(res.headers['x-content-type-options']).toBeUndefined();
  });

  it('answers any method, like the healthz handler', async () => {
    expect((await request(app).post('/healthz')).status).toBe(200);
  });

  it('an unknown check is a 404', async () => {
    expect((await request(app).get('/healthz/nope')).status).toBe(404);
  });
});

describe('/pods and /runningpods/', () => {
  it('GET /pods is a v1 PodList of pods bound to this node', async () => {
    const res = await request(app).get('/pods');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const list = res.body as Json;
    expect(list).toMatchObject({ kind: 'PodList', apiVersion: 'v1', metadata: {} });
    expect(list.items).toHaveLength(model.pods.length);
    for (const pod of list.items) {
      expect(pod).toMatchObject({
        metadata: {
          name: expect.any(String),
          namespace: expect.any(String),
          uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
        spec: { nodeName: 'node-a', containers: expect.any(Array) },
        status: {
          phase: 'Running',
          podIP: expect.any(String),
          startTime: expect.stringMatching(/Z$/),
        },
      });
      const status = pod.status as { containerStatuses: { ready: boolean; containerID: string }[] };
      for (const c of status.containerStatuses) {
        expect(c.ready).toBe(true);
        expect(c.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      }
    }
  });

  it('GET /runningpods/ lists what the runtime runs', async () => {
    const res = await request(app).get('/runningpods/');
    expect(res.status).toBe(200);
    const list = res.body as Json;
    expect(list.kind).toBe('PodList');
    expect(list.items.map((p) => (p.metadata as { uid: string }).uid)).toEqual(
      model.pods.map((p) => p.uid),
    );
    expect(list.items[0]).toMatchObject({
      spec: { containers: [{ name: expect.any(String), image: expect.any(String) }] },
    });
  });

  it.each([
    ['post', '/pods'],
    ['put', '/pods'],
    ['delete', '/runningpods/'],
    ['head', '/pods'],
    ['post', '/logs/'],
    ['patch', `/containerLogs/${webPath}/nginx`],
    ['post', '/spec/'],
  ] as const)('%s %s → 405 with Allow: GET', async (method, path) => {
    const res = await request(app)[method](path);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
  });

  it("a 405 is go-restful's: its own text, no nosniff", async () => {
    const res = await request(app).put('/pods');
    expect(res.text).toBe('405: Method Not Allowed');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBeUndefined();
  });

  it.each(['/pods', '/runningpods/'])(
    '%s ends with a newline, as apimachinery writes it',
    async (path) => {
      const res = await request(app).get(path);
      expect(res.text.endsWith('}\n')).toBe(true);
    },
  );
});

describe('/stats/summary', () => {
  it("GET and POST: go-restful's JSON, indented by one space, no trailing newline", async () => {
    const get = await request(app).get('/stats/summary');
    const post = await request(app).post('/stats/summary');
    expect(post.status).toBe(200);
    expect(post.text).toBe(get.text);
    expect(get.text).toBe(JSON.stringify(JSON.parse(get.text), null, 1));
    const put = await request(app).put('/stats/summary');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
  });

  it('is the Summary API: node and pods with cpu, memory, network, fs, timestamps now', async () => {
    const res = await request(app).get('/stats/summary');
    expect(res.status).toBe(200);
    const { node, pods } = res.body as { node: Json; pods: Json[] };
    const time = '2026-04-21T10:00:00Z';
    expect(node).toMatchObject({
      nodeName: 'node-a',
      startTime: expect.any(String),
      cpu: { time, usageNanoCores: expect.any(Number), usageCoreNanoSeconds: expect.any(Number) },
      memory: { time, availableBytes: expect.any(Number), workingSetBytes: expect.any(Number) },
      network: { time, name: 'eth0', rxBytes: expect.any(Number), interfaces: [{ name: 'eth0' }] },
      fs: { time, capacityBytes: expect.any(Number), usedBytes: expect.any(Number) },
      runtime: { imageFs: { time } },
      rlimit: { time },
    });
    expect((node.systemContainers as { name: string }[]).map((c) => c.name)).toEqual([
      'kubelet',
      'runtime',
      'pods',
    ]);
    expect(pods.map((p) => p.podRef)).toEqual(
      model.pods.map((p) => ({ name: p.name, namespace: p.namespace, uid: p.uid })),
    );
    for (const pod of pods) {
      expect(pod).toMatchObject({
        cpu: { time, usageNanoCores: expect.any(Number) },
        memory: { time, workingSetBytes: expect.any(Number) },
        network: { time },
        'ephemeral-storage': { time },
        containers: expect.arrayContaining([
          expect.objectContaining({ rootfs: expect.any(Object), logs: expect.any(Object) }),
        ]),
      });
    }
  });

  it('the node uses at least what its pods use', async () => {
    const { node, pods } = (await request(app).get('/stats/summary')).body as {
      node: { memory: { workingSetBytes: number } };
      pods: { memory: { workingSetBytes: number } }[];
    };
    const podTotal = pods.reduce((sum, p) => sum + p.memory.workingSetBytes, 0);
    expect(node.memory.workingSetBytes).toBeGreaterThan(podTotal);
  });

  it('only_cpu_and_memory=true trims the rest, as metrics-server asks', async () => {
    const { node, pods } = (await request(app).get('/stats/summary?only_cpu_and_memory=true'))
      .body as {
      node: Json;
      pods: Json[];
    };
    expect(node.network).toBeUndefined();
    expect(node.fs).toBeUndefined();
    expect(node.cpu).toBeDefined();
    expect(pods[0]?.network).toBeUndefined();
    expect(pods[0]?.memory).toBeDefined();
  });

  it.each(['/stats', '/stats/', '/stats/container'])(
    '%s → 404 (removed from the kubelet)',
    async (path) => {
      expect((await request(app).get(path)).status).toBe(404);
    },
  );
});

describe('metrics endpoints (Prometheus text 0.0.4)', () => {
  it.each([
    [
      '/metrics',
      [
        'kubelet_node_name{node="node-a"} 1',
        'kubelet_running_pods 4',
        'kubernetes_feature_enabled{name="KubeletFineGrainedAuthz",stage=""} 1',
        'kubelet_pleg_relist_duration_seconds_bucket{le="+Inf"}',
      ],
    ],
    [
      '/metrics/cadvisor',
      [
        'container_cpu_usage_seconds_total{container="",id="/"',
        'container_memory_working_set_bytes{container="nginx"',
        'machine_cpu_cores{',
      ],
    ],
    [
      '/metrics/resource',
      [
        'node_cpu_usage_seconds_total ',
        'node_memory_working_set_bytes ',
        `pod_cpu_usage_seconds_total{namespace="default",pod="${web.name}"}`,
        'resource_scrape_error 0',
      ],
    ],
    [
      '/metrics/probes',
      [
        `prober_probe_total{container="nginx",namespace="default",pod="${web.name}",pod_uid="${web.uid}",probe_type="Liveness",result="successful"}`,
      ],
    ],
    ['/metrics/slis', ['kubernetes_healthcheck{name="ping",type="healthz"} 1']],
  ])('%s', async (path, expected) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    for (const text of expected) expect(res.text).toContain(text);
    expectValidExposition(res.text);
  });

  const PROMETHEUS_3 =
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
  const PROMETHEUS_2 =
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

  it.each<[string, string | undefined, string]>([
    ['no Accept', undefined, 'underscores'],
    ["Prometheus 3's Accept", PROMETHEUS_3, 'allow-utf-8'],
    ["Prometheus 2's Accept", PROMETHEUS_2, 'underscores'],
    ['a scheme promhttp does not know', 'text/plain;escaping=nope', 'underscores'],
    ['a scheme on a clause read before the text one', 'a/b;escaping=dots,text/plain;q=0.5', 'dots'],
    [
      'a scheme on a clause read after it',
      'text/plain;q=0.9,a/b;q=0.1;escaping=dots',
      'underscores',
    ],
  ])(
    'content type for %s: escaping=%s, as promhttp negotiates it',
    async (_name, accept, scheme) => {
      const res = await request(app)
        .get('/metrics/slis')
        .set(accept === undefined ? {} : { Accept: accept });
      expect(res.headers['content-type']).toBe(
        `text/plain; version=0.0.4; charset=utf-8; escaping=${scheme}`,
      );
    },
  );

  it.each<[string, string | undefined]>([
    ['gzip', 'gzip'],
    ['gzip, deflate', 'gzip'],
    ['identity, gzip', undefined],
    ['gzip;q=0', undefined],
    ['*', undefined],
    ['deflate', undefined],
  ])('Accept-Encoding %j: Content-Encoding %s, as promhttp answers', async (accepted, encoding) => {
    const plain = await request(app).get('/metrics/resource').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const res = await request(app).get('/metrics/resource').set('Accept-Encoding', accepted);
    expect(res.headers['content-encoding']).toBe(encoding);
    expect(res.text).toBe(plain.text);
  });

  it('/metrics/resource samples carry the scrape time', async () => {
    const res = await request(app).get('/metrics/resource');
    expect(res.text).toMatch(
      new RegExp(`^node_cpu_usage_seconds_total [\\d.e+]+ ${NOW.getTime()}$`, 'm'),
    );
  });

  it('a feature gate turned off shows as 0', async () => {
    const off = createKubeletApp({
      context: context({
        'feature-gates': { KubeletFineGrainedAuthz: false, ContainerCheckpoint: true },
      }),
    });
    const res = await request(off).get('/metrics');
    expect(res.text).toContain(
      'kubernetes_feature_enabled{name="KubeletFineGrainedAuthz",stage=""} 0',
    );
  });

  it('an unknown metrics path is a 404', async () => {
    expect((await request(app).get('/metrics/nope')).status).toBe(404);
  });
});

/** Every family has HELP and TYPE before its samples, every sample line parses. */
function expectValidExposition(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram|untyped)$/.exec(line);
    if (type?.[1]) {
      typed.add(type[1]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample =
      /^([a-zA-Z_:][\w:]*)(\{([a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[\d.]+(?:e[+-]?\d+)?|\+Inf|NaN)( \d+)?$/.exec(
        line,
      );
    expect(sample).not.toBeNull();
    const name = sample?.[1] ?? '';
    expect([...typed].some((family) => name === family || name.startsWith(`${family}_`))).toBe(
      true,
    );
  }
}

describe('/spec/ and /configz', () => {
  it('/spec/ is cAdvisor machine info', async () => {
    const res = await request(app).get('/spec/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      num_cores: 4,
      memory_capacity: expect.any(Number),
      machine_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      filesystems: expect.any(Array),
      network_devices: expect.any(Array),
    });
  });

  it('/configz is the effective configuration, without secrets', async () => {
    const custom = createKubeletApp({
      context: context({
        'client-ca-file': '/pki/ca.crt',
        'authentication-token-webhook': true,
        'authentication-token-webhook-cache-ttl': 90_000,
        'authorization-mode': 'Webhook',
        'authorization-webhook-cache-unauthorized-ttl': 0,
        'tls-private-key-file': '/pki/kubelet.key',
      }),
    });
    const res = await request(custom).get('/configz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toMatchObject({
      kubeletconfig: {
        address: '0.0.0.0',
        port: 10250,
        tlsPrivateKeyFile: '/pki/kubelet.key',
        authentication: {
          x509: { clientCAFile: '/pki/ca.crt' },
          webhook: { enabled: true, cacheTTL: '1m30s' },
          anonymous: { enabled: true },
        },
        authorization: {
          mode: 'Webhook',
          webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '0s' },
        },
        featureGates: { KubeletFineGrainedAuthz: true, ContainerCheckpoint: true },
      },
    });
    expect(res.text).not.toMatch(/BEGIN|PRIVATE|token":/);
  });
});

describe('/containerLogs/{namespace}/{pod}/{container}', () => {
  const path = `/containerLogs/${webPath}/nginx`;

  it('serves the log as plain text', async () => {
    const res = await request(app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text.trimEnd().split('\n').length).toBeGreaterThan(10);
    expect(res.text).toContain('"GET / HTTP/1.1" 200');
  });

  it.each<[string, (body: string) => void]>([
    ['tailLines=3', (body) => expect(body.trimEnd().split('\n')).toHaveLength(3)],
    ['tailLines=0', (body) => expect(body).toBe('')],
    [
      'timestamps=true&tailLines=2',
      (body) => {
        for (const line of body.trimEnd().split('\n'))
          expect(line).toMatch(/^2026-04-21T\d\d:\d\d:\d\d(\.\d+)?Z \S/);
      },
    ],
    ['limitBytes=10', (body) => expect(Buffer.byteLength(body)).toBe(10)],
    ['sinceSeconds=60', (body) => expect(body.trimEnd().split('\n').length).toBeLessThanOrEqual(2)],
    ['follow=true&tailLines=1', (body) => expect(body.trimEnd().split('\n')).toHaveLength(1)],
  ])('?%s', async (query, check) => {
    const res = await request(app).get(`${path}?${query}`);
    expect(res.status).toBe(200);
    check(res.text);
  });

  const UNDECODABLE = '{"message": "Unable to decode query."}';
  const INVALID = '{"message": "Invalid request."}';
  it.each([
    [`/containerLogs/default/no-such-pod/nginx`, 404, 'pod "no-such-pod" does not exist'],
    [`/containerLogs/kube-system/${web.name}/nginx`, 404, `pod "${web.name}" does not exist`],
    [`${path.replace(/nginx$/, 'redis')}`, 404, `container "redis" not found in pod "${web.name}"`],
    [`${path}?tailLines=abc`, 400, UNDECODABLE],
    [`${path}?limitBytes=1.5`, 400, UNDECODABLE],
    [`${path}?tailLines=`, 400, UNDECODABLE],
    [`${path}?sinceTime=2026-04-21`, 400, UNDECODABLE],
    [`${path}?sinceTime=2026-02-30T00:00:00Z`, 400, UNDECODABLE],
    [`${path}?sinceTime=2026-04-21T09:00:00%2B25:00`, 400, UNDECODABLE],
    [`${path}?tailLines=-1`, 422, INVALID],
    [`${path}?sinceSeconds=0`, 422, INVALID],
    [`${path}?limitBytes=0`, 422, INVALID],
    [`${path}?sinceSeconds=10&sinceTime=2026-04-21T09:00:00Z`, 422, INVALID],
    [`${path}?sinceSeconds=10&sinceTime=`, 422, INVALID],
    [
      `${path}?previous=true`,
      400,
      `previous terminated container "nginx" in pod "${web.name}" not found`,
    ],
  ])("%s → %i, go-restful's error bytes", async (target, status, body) => {
    const res = await request(app).get(target);
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBeUndefined();
  });

  const lineCount = (body: string): number => (body === '' ? 0 : body.trimEnd().split('\n').length);
  const stamped = (body: string): boolean => /^2026-04-21T\S+Z /.test(body);

  it.each<[string, (body: string, all: string) => void]>([
    ['timestamps=1', (body) => expect(stamped(body)).toBe(true)],
    ['timestamps=yes', (body) => expect(stamped(body)).toBe(true)],
    ['timestamps=', (body) => expect(stamped(body)).toBe(true)],
    ['timestamps=FALSE', (body) => expect(stamped(body)).toBe(false)],
    ['timestamps=0', (body) => expect(stamped(body)).toBe(false)],
    ['tailLines=%2B2', (body) => expect(lineCount(body)).toBe(2)],
    ['tail=2', (body) => expect(lineCount(body)).toBe(2)],
    ['tail=all&tailLines=1', (body, all) => expect(body).toBe(all)],
    ['tailLines=2&tailLines=5', (body) => expect(lineCount(body)).toBe(2)],
    ['sinceTime=', (body, all) => expect(body).toBe(all)],
    ['sinceTime=2026-04-20T00:00:00.5-08:00', (body, all) => expect(body).toBe(all)],
    ['sinceTime=2026-04-20T00:00:00,5%2B24:00', (body, all) => expect(body).toBe(all)],
    [
      // 09:30Z: the offset counts.
      'sinceTime=2026-04-21T10:30:00.000%2B01:00',
      (body, all) => expect([lineCount(body) > 0, body.length < all.length]).toEqual([true, true]),
    ],
  ])('?%s, read as the kubelet reads PodLogOptions', async (query, check) => {
    const all = await request(app).get(path);
    const res = await request(app).get(`${path}?${query}`);
    expect(res.status).toBe(200);
    check(res.text, all.text);
  });
});

describe('streaming endpoints: canned answers, nothing executed', () => {
  it.each([
    [
      'post',
      `/exec/${webPath}/nginx?command=rm&command=-rf&command=/&output=1`,
      'exec is simulated: nothing was executed in container "nginx" of pod ' +
        webPath +
        ' (command: ["rm","-rf","/"])',
    ],
    ['get', `/exec/${webPath}/nginx?command=ls&output=1`, 'nothing was executed'],
    ['post', `/exec/${webPath}/${web.uid}/nginx?input=1`, 'nothing was executed'],
    [
      'post',
      `/run/${webPath}/nginx?cmd=ls%20-l`,
      'run is simulated: nothing was executed in container "nginx" of pod ' +
        webPath +
        ' (command: ["ls","-l"])',
    ],
    ['post', `/attach/${webPath}/nginx?output=1`, 'no stream was attached'],
    ['get', `/attach/${webPath}/${web.uid}/log-shipper?error=1`, 'no stream was attached'],
    [
      'post',
      `/portForward/${webPath}?port=80`,
      `no port of pod ${webPath} was forwarded (ports: 80)`,
    ],
    ['get', `/portForward/${webPath}/${web.uid}`, 'was forwarded'],
  ] as const)('%s %s', async (method, path, text) => {
    const res = await request(app)[method](path);
    expect(res.status).toBe(200);
    expect(res.text).toContain(text);
  });

  it.each([
    ['put', `/exec/${webPath}/nginx`, 'GET, POST'],
    ['delete', `/attach/${webPath}/nginx`, 'GET, POST'],
    ['get', `/run/${webPath}/nginx`, 'POST'],
    ['put', `/portForward/${webPath}`, 'GET, POST'],
  ] as const)('%s %s → 405 (Allow: %s)', async (method, path, allow) => {
    const res = await request(app)[method](path);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
  });

  it.each([
    [`/exec/default/ghost/nginx?output=1`, 404, 'pod does not exist'],
    [`/exec/default/ghost/nginx`, 400, 'you must specify at least 1 of stdin, stdout, stderr'],
    [
      `/attach/${webPath}/nginx?tty=1&error=1`,
      400,
      'you must specify at least 1 of stdin, stdout, stderr',
    ],
    [`/exec/${webPath}/nope?output=1`, 500, 'container not found ("nope")'],
    [
      `/attach/${webPath}/nope?output=1`,
      500,
      `container nope not found in pod ${web.name}_default`,
    ],
    [`/portForward/default/ghost`, 404, 'pod does not exist'],
    [`/portForward/${webPath}/00000000-0000-4000-a000-000000000000`, 404, 'pod not found'],
    [`/run/${webPath}/ghost`, 500, 'container not found ("ghost")'],
    [`/checkpoint/default/ghost/nginx`, 404, 'pod does not exist'],
    [`/checkpoint/${webPath}/ghost`, 404, 'container ghost does not exist'],
  ] as const)("POST %s → %i, in the kubelet's words", async (path, status, body) => {
    const res = await request(app).post(path);
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
  });

  it("exec with a UID that is not the pod's: the runtime finds the pod by name, as the kubelet's does", async () => {
    const res = await request(app).post(
      `/exec/${webPath}/00000000-0000-4000-a000-000000000000/nginx?output=1`,
    );
    expect(res.status).toBe(200);
  });
});

describe('/checkpoint (ContainerCheckpoint gate)', () => {
  const path = `/checkpoint/${webPath}/nginx`;

  it('gate on: POST answers the archive a kubelet would write (nothing is written)', async () => {
    const res = await request(app).post(path);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        `/var/lib/kubelet/checkpoints/checkpoint-${web.name}_default-nginx-2026-04-21T10:00:00Z.tar`,
      ],
    });
  });

  it('gate on: other methods → 405', async () => {
    const res = await request(app).get(path);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('gate off: the route does not exist → 404', async () => {
    const off = createKubeletApp({
      context: context({
        'feature-gates': { KubeletFineGrainedAuthz: true, ContainerCheckpoint: false },
      }),
    });
    expect((await request(off).post(path)).status).toBe(404);
  });
});

describe('unknown paths', () => {
  it.each(['/', '/foo', '/podsx', '/statsfoo', '/debug/pprof/'])(
    '%s → 404 page not found',
    async (path) => {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(res.text).toBe('404 page not found\n');
    },
  );

  it('a malformed escape in a path parameter is a 400, not a crash', async () => {
    const res = await request(app).get('/containerLogs/default/%zz/nginx');
    expect(res.status).toBe(400);
  });

  it('sends no Express fingerprints', async () => {
    const res = await request(app).get('/pods');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers.etag).toBeUndefined();
  });
});
