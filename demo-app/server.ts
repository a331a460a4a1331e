/**
 * Builds and starts the mock kubelet's HTTPS server from a prepared configuration: the serving
 * certificate (given, or self-signed as the kubelet generates one), `kubeletAuth` with every
 * field passed explicitly (the library's defaults are the config file's, the kubelet's flags
 * have others), the routes, and a graceful close.
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { kubeletAuth, withLevel, type KubeletAuthOptions } from 'express-kubelet-auth';
import { prometheusMetrics } from 'express-kubelet-auth/metrics';
import { escapeControlCharacters } from 'express-kubelet-auth/parts';
import { mintServingCert } from 'express-kubelet-auth/testing';
import { createKubeletApp } from './app.js';
import { CliError } from './cli-error.js';
import {
  limitConnections,
  resolveConnectionTimeouts,
  serverTimeoutOptions,
  type ConnectionTimeouts,
} from './connection-limits.js';
import { createNodeModel } from './payloads/node-model.js';
import type { PreparedKubelet } from './preflight.js';
import { markAuthorized, requestLog } from './request-log.js';
import { kubeletMux, kubeletPatterns, serveMux } from './serve-mux.js';
import { serveWebSocketStreams } from './websocket-exec.js';

/** The demo log folder inside the package, served by `/logs/`. */
export const DEFAULT_LOGS_ROOT = fileURLToPath(new URL('./logs-root/', import.meta.url));

export interface StartOptions {
  /** Also try this many following ports when the configured one is taken (dev mode). */
  portSearch?: number;
  logsRoot?: string;
  /** One line per request and per auth warning (no newline). */
  log: (line: string) => void;
  /** Connection timeouts; each absent one has its default (see demo-app/README.md). */
  timeouts?: ConnectionTimeouts;
}

export interface RunningKubelet {
  server: Server;
  /** `https://<address>:<port>`, with a dialable address when listening on all interfaces. */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), releases everything. */
  close(graceMs?: number): Promise<void>;
}

export async function startKubelet(
  prepared: PreparedKubelet,
  options: StartOptions,
): Promise<RunningKubelet> {
  const { config } = prepared;
  const { settings } = config;
  // Every line carries request input (user names, paths, the middleware's reasons): whatever a
  // producer missed, no control character reaches the terminal, and one line stays one line.
  const log = (line: string): void => options.log(escapeControlCharacters(line));
  const timeouts = resolveConnectionTimeouts(options.timeouts);
  const servingPair = prepared.servingPair ?? (await selfSignedPair(config.nodeName));
  // The middleware's own lines down to info (CA reloads). Its routine refusals, at debug, would
  // repeat the request log's decision=unauthenticated and decision=forbidden.
  const authLine = (level: string) => (message: string) => log(`auth: ${level}: ${message}`);
  const authLogger = withLevel(
    {
      error: authLine('error'),
      warn: authLine('warn'),
      info: authLine('info'),
      debug: authLine('debug'),
    },
    'info',
  );

  const authOptions: KubeletAuthOptions = {
    nodeName: config.nodeName,
    authentication: {
      x509: { clientCAFile: settings['client-ca-file'] },
      webhook: {
        enabled: settings['authentication-token-webhook'],
        cacheTTL: settings['authentication-token-webhook-cache-ttl'],
      },
      anonymous: { enabled: settings['anonymous-auth'] },
    },
    authorization: {
      mode: settings['authorization-mode'],
      webhook: {
        cacheAuthorizedTTL: settings['authorization-webhook-cache-authorized-ttl'],
        cacheUnauthorizedTTL: settings['authorization-webhook-cache-unauthorized-ttl'],
      },
    },
    fineGrained: settings['feature-gates'].KubeletFineGrainedAuthz,
    logger: authLogger,
  };
  if (prepared.kubeConfig) authOptions.kubeConfig = prepared.kubeConfig;
  // The real middleware's metrics, served on /metrics beside the node's (as the kubelet serves
  // its apiserver_delegated_* metrics there).
  const registry = new Registry();
  authOptions.metrics = prometheusMetrics({ registry });

  let auth: ReturnType<typeof kubeletAuth>;
  try {
    auth = kubeletAuth(authOptions);
  } catch (error) {
    // The library's configuration errors are the user's configuration errors: one line.
    throw new CliError(error instanceof Error ? error.message : String(error));
  }

  // Go's multiplexer answers paths no endpoint covers before authentication, as on the kubelet.
  const mux = kubeletMux(kubeletPatterns(settings['feature-gates']));
  const app = createKubeletApp({
    context: {
      model: createNodeModel(config.nodeName),
      settings,
      logsRoot: options.logsRoot ?? DEFAULT_LOGS_ROOT,
      now: () => new Date(),
      authMetrics: () => registry.metrics(),
    },
    before: [requestLog(log), serveMux(mux), auth, markAuthorized],
    onError: log,
  });

  // Client certificates are requested but verified by kubeletAuth, not by TLS: with a `ca`
  // option Node drops some connections the kubelet would answer with 401.
  const server = createServer(
    {
      cert: servingPair.cert,
      key: servingPair.key,
      requestCert: true,
      rejectUnauthorized: false,
      ...serverTimeoutOptions(timeouts),
    },
    app,
  );
  limitConnections(server, timeouts);
  serveWebSocketStreams(server, auth, log, mux);
  let port: number;
  try {
    port = await listen(server, settings.port, settings.address, options.portSearch ?? 0);
  } catch (error) {
    auth.close();
    throw error;
  }

  const close = async (graceMs = 10_000): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    await closed;
    clearTimeout(force);
    auth.close();
  };
  return { server, url: `https://${dialableHost(settings.address)}:${port}`, port, close };
}

// The kubelet writes a self-signed pair for its host name when no serving certificate is
// configured (CN "<host>@<unix time>"); this one also covers the loopback names, so local
// clients can verify it when they trust it explicitly.
async function selfSignedPair(nodeName: string): Promise<{ cert: string; key: string }> {
  const hosts = [...new Set([nodeName, 'localhost', '127.0.0.1'])];
  const pair = await mintServingCert({
    hosts,
    commonName: `${nodeName}@${Math.floor(Date.now() / 1000)}`,
  });
  return { cert: pair.cert, key: pair.key };
}

async function listen(
  server: Server,
  port: number,
  address: string,
  search: number,
): Promise<number> {
  for (let candidate = port; ; candidate++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => {
          server.off('listening', onListening);
          reject(error);
        };
        const onListening = (): void => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(candidate, address);
      });
      return (server.address() as AddressInfo).port;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && candidate < port + search && candidate < 65535) continue;
      const where = `${address.includes(':') ? `[${address}]` : address}:${candidate}`;
      if (code === 'EADDRINUSE') throw new CliError(`listen tcp ${where}: address already in use`);
      if (code === 'EACCES') throw new CliError(`listen tcp ${where}: permission denied`);
      if (code === 'EADDRNOTAVAIL') {
        throw new CliError(`listen tcp ${where}: cannot assign requested address (--address)`);
      }
      throw error;
    }
  }
}

function dialableHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
