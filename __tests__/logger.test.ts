import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import express from 'express';
import type { Server } from 'node:https';
import request from 'supertest';
import {
  createStderrLogger,
  kubeletAuth,
  kubeletAuthz,
  nonResourceAttributes,
  silentLogger,
  stderrLogger,
  withLevel,
  type KubeletAuthOptions,
  type Logger,
} from '../lib/index.js';
import type { LogLevel } from '../lib/parts.js';
import type { StandInApiServer } from '../lib/testing/index.js';
import {
  call,
  close,
  listen,
  makePki,
  startPolicyApiServer,
  type Pki,
} from './integration/harness.js';
import { record } from './support/secrets.js';

/** What may drive a terminal, forge a line or reorder the display. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** Every line the package logs, as `<level>: <message>`; also checked for credentials. */
function levelRecorder(): Required<Logger> & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: LogLevel) => (message: string) => {
    lines.push(`${level}: ${message}`);
    record(message);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** What is written to standard error while `run` runs (and is not shown). */
async function stderrDuring(run: () => Promise<unknown> | void): Promise<string[]> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    record(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return written;
}

describe('createStderrLogger and stderrLogger', () => {
  it('writes one line naming the level, with the control characters of the message escaped', async () => {
    const written = await stderrDuring(() =>
      stderrLogger.warn('user "eve\x1b]0;owned\x07\u009b2J\u2028forged\u202e" refused\nnext'),
    );
    expect(written).toEqual([
      'express-kubelet-auth: warn: user "eve\\u001b]0;owned\\u0007\\u009b2J\\u2028forged\\u202e" refused\\nnext\n',
    ]);
  });

  it.each<[LogLevel | undefined, LogLevel[]]>([
    [undefined, ['error', 'warn']],
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['info', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
  ])('at level %s writes %j', async (level, shown) => {
    const logger = createStderrLogger(level === undefined ? {} : { level });
    const written = await stderrDuring(() => {
      for (const at of LEVELS) logger[at](`a ${at} line`);
    });
    expect(written).toEqual(shown.map((at) => `express-kubelet-auth: ${at}: a ${at} line\n`));
  });

  it('the default, stderrLogger, is at warn', async () => {
    const written = await stderrDuring(() => {
      for (const at of LEVELS) stderrLogger[at](`a ${at} line`);
    });
    expect(written).toHaveLength(2);
  });

  it('refuses an unknown level', () => {
    expect(() => createStderrLogger({ level: 'verbose' as LogLevel })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: 'level: expected one of error, warn, info, debug, got "verbose"',
      }),
    );
  });
});

describe('withLevel', () => {
  it.each<[LogLevel, LogLevel[]]>([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['info', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
  ])('at %s passes on %j', (level, shown) => {
    const inner = levelRecorder();
    const logger = withLevel(inner, level);
    for (const at of LEVELS) logger[at]('m');
    expect(inner.lines).toEqual(shown.map((at) => `${at}: m`));
  });

  it('calls a logger’s methods on the logger (pino and winston need their `this`)', () => {
    const spy = jest.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      withLevel(console, 'info').info('through console');
      expect(spy).toHaveBeenCalledWith('through console');
    } finally {
      spy.mockRestore();
    }
  });

  it('silentLogger drops everything', async () => {
    const written = await stderrDuring(() => {
      for (const at of LEVELS) silentLogger[at]('m');
    });
    expect(written).toEqual([]);
  });
});

// The shapes of pino's and winston's logger methods (pino 10 `LogFn`, winston 3
// `LeveledLogMethod`): overloaded, and reading their own instance through `this`.
interface PinoLogFn {
  <TMsg extends string = string>(msg: TMsg, ...args: unknown[]): void;
  <T>(obj: T, msg?: string, ...args: unknown[]): void;
}
class PinoShaped {
  readonly lines: string[] = [];
  private write(level: number, first: unknown): void {
    this.lines.push(`${level} ${String(first)}`);
  }
  error: PinoLogFn = function (this: PinoShaped, first: unknown) {
    this.write(50, first);
  };
  warn: PinoLogFn = function (this: PinoShaped, first: unknown) {
    this.write(40, first);
  };
  info: PinoLogFn = function (this: PinoShaped, first: unknown) {
    this.write(30, first);
  };
  debug: PinoLogFn = function (this: PinoShaped, first: unknown) {
    this.write(20, first);
  };
}
interface WinstonLeveledLogMethod {
  (message: string, ...meta: unknown[]): WinstonShaped;
  (message: unknown): WinstonShaped;
  (infoObject: object): WinstonShaped;
}
class WinstonShaped {
  readonly lines: string[] = [];
  private log(level: string, message: unknown): WinstonShaped {
    this.lines.push(`${level}: ${String(message)}`);
    return this;
  }
  error: WinstonLeveledLogMethod = function (this: WinstonShaped, message: unknown) {
    return this.log('error', message);
  };
  warn: WinstonLeveledLogMethod = function (this: WinstonShaped, message: unknown) {
    return this.log('warn', message);
  };
  info: WinstonLeveledLogMethod = function (this: WinstonShaped, message: unknown) {
    return this.log('info', message);
  };
  debug: WinstonLeveledLogMethod = function (this: WinstonShaped, message: unknown) {
    return this.log('debug', message);
  };
}

describe('over real TLS: what the middleware logs, at which level', () => {
  let pki: Pki;
  let api: StandInApiServer;
  const servers: Server[] = [];
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  });
  afterAll(async () => {
    closers.forEach((c) => c());
    await Promise.all(servers.map(close));
    await api.close();
  });
  beforeEach(async () => {
    await api.setFault();
  });

  /** A kubelet: x509 and token webhook, anonymous off, nothing cached; `logger` as given. */
  async function kubelet(logger?: KubeletAuthOptions['logger']): Promise<Server> {
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      timeout: '2s',
      authentication: {
        x509: { clientCAFile: pki.clientCAFile },
        webhook: { enabled: true, cacheTTL: '0s' },
      },
      authorization: {
        mode: 'Webhook',
        webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' },
      },
      ...(logger === undefined ? {} : { logger }),
    });
    closers.push(() => auth.close());
    const app = express();
    app.use(auth);
    app.use((_req, res) => {
      res.send('ok');
    });
    const server = await listen(pki, app);
    servers.push(server);
    return server;
  }

  let server: Server;
  const logger = levelRecorder();
  beforeAll(async () => {
    server = await kubelet(logger);
  });
  beforeEach(() => {
    logger.lines.length = 0;
  });

  it.each<[string, () => Parameters<typeof call>[3], string, number, string | RegExp]>([
    [
      'a refused token',
      () => ({ authorization: 'Bearer nope-token' }),
      '/pods',
      401,
      'debug: bearer token refused: invalid bearer token',
    ],
    [
      'a refused certificate',
      () => ({ cert: pki.certs.wrongCA }),
      '/pods',
      401,
      /^debug: client certificate refused: .*x509: certificate signed by unknown authority$/,
    ],
    [
      'an anonymous request, anonymous being off',
      () => ({}),
      '/pods',
      401,
      'debug: anonymous request refused (anonymous authentication is off): GET /pods',
    ],
    [
      'a forbidden request',
      () => ({ authorization: 'Bearer bob-token' }),
      '/stats/summary',
      403,
      'debug: forbidden: user "bob": get nodes/stats',
    ],
  ])('%s: one line, at debug only', async (_name, options, path, status, line) => {
    await call(server, pki, path, options()).expect(status);
    expect(logger.lines).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
  });

  it('a TokenReview that fails: 401 and a line at warn', async () => {
    await api.setFault({ type: 'status', status: 400 });
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(401);
    expect(logger.lines).toEqual([expect.stringMatching(/^warn: bearer token not checked: /)]);
  });

  it('an authorization error: 500 and a line at error', async () => {
    await api.setFault({ type: 'status', status: 400 });
    await call(server, pki, '/pods', { cert: pki.certs.alice }).expect(500);
    expect(logger.lines).toEqual([
      expect.stringMatching(/^error: authorization error for user "alice" on nodes\/pods: /),
    ]);
  });

  it('the default logger writes no line for a refused credential, and one for a failed review', async () => {
    const quiet = await kubelet();
    const refusals = await stderrDuring(async () => {
      await call(quiet, pki, '/pods', { authorization: 'Bearer nope-token' }).expect(401);
      await call(quiet, pki, '/pods', { cert: pki.certs.expired }).expect(401);
      await call(quiet, pki, '/pods').expect(401);
      await call(quiet, pki, '/stats/summary', { authorization: 'Bearer bob-token' }).expect(403);
    });
    expect(refusals).toEqual([]);
    await api.setFault({ type: 'status', status: 400 });
    const failures = await stderrDuring(() =>
      call(quiet, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(401),
    );
    expect(failures).toEqual([
      expect.stringMatching(/^express-kubelet-auth: warn: bearer token not checked: /),
    ]);
  });

  it('takes console, a pino-shaped and a winston-shaped logger as they are', async () => {
    const pino = new PinoShaped();
    const winston = new WinstonShaped();
    const consoleDebug = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    try {
      for (const logger of [pino, winston, console] satisfies Logger[]) {
        const server = await kubelet(logger);
        await call(server, pki, '/pods', { authorization: 'Bearer nope-token' }).expect(401);
      }
      expect(pino.lines).toEqual(['20 bearer token refused: invalid bearer token']);
      expect(winston.lines).toEqual(['debug: bearer token refused: invalid bearer token']);
      expect(consoleDebug.mock.calls).toEqual([['bearer token refused: invalid bearer token']]);
    } finally {
      consoleDebug.mockRestore();
    }
  });

  it('a logger with warn only, as before levels: errors reach warn, refusals are dropped', async () => {
    const warnings: string[] = [];
    const legacy = await kubelet({ warn: (message) => warnings.push(message) });
    await call(legacy, pki, '/pods', { authorization: 'Bearer nope-token' }).expect(401);
    expect(warnings).toEqual([]);
    await api.setFault({ type: 'status', status: 400 });
    await call(legacy, pki, '/pods', { cert: pki.certs.alice }).expect(500);
    expect(warnings).toEqual([expect.stringMatching(/^authorization error for user "alice"/)]);
  });

  it('refuses, at construction, a logger without warn', () => {
    expect(() =>
      kubeletAuth({ nodeName: 'node-a', kubeConfig: api.kubeConfig, logger: {} as Logger }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringMatching(/^logger: /),
      }),
    );
  });
});

describe('the authorization error line, through any logger', () => {
  it('quotes the user and the path with their control characters escaped', async () => {
    const logger = levelRecorder();
    const app = express();
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = { username: 'eve\u009b2J\u2028\u202e', groups: [] };
      next();
    });
    app.use(
      kubeletAuthz({
        authorizer: {
          authorize: () => Promise.resolve({ decision: 'NoOpinion', error: new Error('down') }),
        },
        attributes: nonResourceAttributes(),
        logger,
      }),
    );
    const res = await request(app).get('/api/%C2%9B2J%E2%80%A8x');
    expect(res.status).toBe(500);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).not.toMatch(UNSAFE);
    expect(logger.lines[0]).toContain(
      'error: authorization error for user "eve\\u009b2J\\u2028\\u202e" on /api/\\u009b2J\\u2028x',
    );
  });

  it('escapes them in the debug line of a forbidden request too', async () => {
    const logger = levelRecorder();
    const app = express();
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = { username: 'eve\u009b2J\u2028\u202e', groups: [] };
      next();
    });
    app.use(
      kubeletAuthz({
        authorizer: { authorize: () => Promise.resolve({ decision: 'Deny' }) },
        attributes: nonResourceAttributes(),
        logger,
      }),
    );
    await request(app).get('/api/%C2%9B2J%E2%80%A8x').expect(403);
    expect(logger.lines).toEqual([
      'debug: forbidden: user "eve\\u009b2J\\u2028\\u202e": get /api/\\u009b2J\\u2028x',
    ]);
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});
