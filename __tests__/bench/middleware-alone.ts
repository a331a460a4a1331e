/**
 * The middleware's own cost, without HTTP: `kubeletAuth` called directly on request-shaped
 * objects, warm caches, in this process. Stable where throughput on shared cores is not, and it
 * says what the package adds to each request (the rest is Express and Node's HTTP stack).
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { builtPackage } from './built-package.js';
import { BENCH, clientHeaders } from './protocol.js';

const { kubeletAuth, silentLogger } = builtPackage;

export interface MiddlewareAloneRow {
  scenario: string;
  nsPerRequest: number;
  /** How many of the calls reached `next()` synchronously (no await): all, when warm. */
  synchronous: number;
  calls: number;
}

const answered: Pick<ServerResponse, 'headersSent'> & Record<string, unknown> = {
  headersSent: false,
  statusCode: 200,
  setHeader: () => undefined,
  end: () => {
    throw new Error('the middleware answered instead of calling next()');
  },
  destroy: () => undefined,
};

async function measureOne(
  scenario: string,
  auth: ReturnType<typeof kubeletAuth>,
  headers: Record<string, string>,
  calls: number,
): Promise<MiddlewareAloneRow> {
  // Real request objects, filled the way Node's HTTP parser fills them (lazy header views
  // included), as the middleware meets them in a server: all on one (unconnected) socket, as
  // the bench's keep-alive clients send them.
  const lines = Object.entries({ Host: '127.0.0.1', ...headers }).flat();
  const connection = new Socket();
  const request = (): IncomingMessage => {
    const req = new IncomingMessage(connection) as IncomingMessage & {
      _addHeaderLines(lines: string[], n: number): void;
    };
    req.method = 'GET';
    req.url = BENCH.path;
    req._addHeaderLines([...lines], lines.length);
    return req;
  };
  const res = answered as unknown as ServerResponse;
  // Warm: the first call may ask the API server.
  await new Promise<void>((resolve) => auth(request(), res, () => resolve()));
  let synchronous = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) auth(request(), res, () => synchronous++);
  const ns = Number(process.hrtime.bigint() - started) / calls;
  connection.destroy();
  return { scenario, nsPerRequest: ns, synchronous, calls };
}

/** Anonymous + AlwaysAllow, and a warm bearer token + Webhook (reviews from `kubeconfig`). */
export async function middlewareAlone(
  kubeconfig: string,
  calls = 200_000,
): Promise<MiddlewareAloneRow[]> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfig);
  const anonymous = kubeletAuth({
    nodeName: BENCH.nodeName,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    logger: silentLogger,
  });
  const token = kubeletAuth({ nodeName: BENCH.nodeName, kubeConfig, logger: silentLogger });
  try {
    return [
      await measureOne('2 anonymous + AlwaysAllow', anonymous, clientHeaders(), calls),
      await measureOne(
        '3 bearer token + Webhook, warm',
        token,
        clientHeaders(BENCH.warmToken),
        calls,
      ),
    ];
  } finally {
    anonymous.close();
    token.close();
  }
}
