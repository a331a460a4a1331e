/**
 * The middleware's own cost, without HTTP: `kubeletAuth` called directly on requests parsed
 * beforehand, warm caches, in this process. Stable where throughput on shared cores is not, and
 * it says what the package adds to each request (the rest is Express and Node's HTTP stack).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
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

/**
 * Requests parsed, then timed, in batches of this many: small enough that a batch is still in
 * the CPU's caches when it is timed, as a request a server has just parsed is.
 */
const BATCH = 100;

/**
 * One keep-alive client's connection, in memory: `next(count)` sends `count` requests with
 * `headers`, pipelined, and gives them as Node's HTTP parser made them (lazy header views
 * included), the way the middleware meets them in a server. The requests given before are
 * answered first, so that the server lets them go.
 */
function connection(headers: Record<string, string>) {
  const parsed: { req: IncomingMessage; res: ServerResponse }[] = [];
  const server = createServer((req, res) => parsed.push({ req, res }));
  const wire = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
  server.emit('connection', wire);
  const lines = Object.entries({ Host: '127.0.0.1', ...headers }).map(([n, v]) => `${n}: ${v}`);
  const request = `GET ${BENCH.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  return {
    async next(count: number): Promise<IncomingMessage[]> {
      for (const { res } of parsed.splice(0)) res.end();
      wire.push(request.repeat(count));
      for (let turns = 0; parsed.length < count; turns++) {
        if (turns === 1_000) throw new Error(`only ${parsed.length} of ${count} requests parsed`);
        await turn();
      }
      return parsed.map(({ req }) => req);
    },
    close: () => wire.destroy(),
  };
}

async function measureOne(
  scenario: string,
  auth: ReturnType<typeof kubeletAuth>,
  headers: Record<string, string>,
  calls: number,
): Promise<MiddlewareAloneRow> {
  const res = answered as unknown as ServerResponse;
  const client = connection(headers);
  try {
    // Warm: the first call may ask the API server.
    const [first] = await client.next(1);
    await new Promise<void>((resolve) => auth(first as IncomingMessage, res, () => resolve()));
    let synchronous = 0;
    let ns = 0;
    for (let done = 0; done < calls; done += BATCH) {
      const requests = await client.next(Math.min(BATCH, calls - done));
      const started = process.hrtime.bigint();
      for (const req of requests) auth(req, res, () => synchronous++);
      ns += Number(process.hrtime.bigint() - started);
    }
    return { scenario, nsPerRequest: ns / calls, synchronous, calls };
  } finally {
    client.close();
  }
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
