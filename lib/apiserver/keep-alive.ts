import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';

/**
 * client-node builds a new connection pool for every request (1.x: an `https.Agent` without
 * keep-alive; 2.x: an undici `Agent`), so every TokenReview and SubjectAccessReview would pay a
 * TCP and TLS handshake. This hands out one pool per set of TLS settings instead, and a new one
 * when the settings change (credentials read from files may rotate). Proxies are left alone, and
 * so is a user whose credentials come from an exec plugin: the plugin may hand out a client
 * certificate the kubeconfig does not hold, and a new one when it rotates, which only the pool
 * client-node made for the request carries.
 *
 * It works on the request context of either major through what both expose: 1.x has
 * `getAgent`/`setAgent`, 2.x `getDispatcher`/`setDispatcher`.
 */
export class KeepAliveAgents {
  private current: { settings: TlsSettings; pool: unknown; close: () => void } | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  /** Puts the shared pool in `context` in place of the one client-node made for this request. */
  apply(context: object): void {
    if (usesExecPlugin(this.kubeConfig)) return;
    const ctx = context as TransportContext;
    if (typeof ctx.getAgent === 'function' && typeof ctx.setAgent === 'function') {
      const fresh = ctx.getAgent();
      // Only a plain https.Agent is replaced: proxy agents carry more than TLS settings.
      if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return;
      const settings = tlsSettings(this.kubeConfig);
      const make = (): Agent => new Agent({ ...settings, keepAlive: true, scheduling: 'lifo' });
      ctx.setAgent(this.pool(settings, make, (agent) => agent.destroy()));
    } else if (typeof ctx.getDispatcher === 'function' && typeof ctx.setDispatcher === 'function') {
      const fresh = ctx.getDispatcher();
      // No dispatcher: client-node lets fetch use its global pool, which keeps connections alive.
      if (!isDispatcher(fresh) || this.kubeConfig.getCurrentCluster()?.proxyUrl) return;
      const settings = tlsSettings(this.kubeConfig);
      const shared = this.pool(
        settings,
        () => fresh,
        (dispatcher) => void dispatcher.close().catch(() => undefined),
      );
      // undici dispatchers keep connections alive; the one client-node made is adopted the first
      // time, and closed (it never connected) when a shared one serves instead.
      if (shared !== fresh) void fresh.close().catch(() => undefined);
      ctx.setDispatcher(shared);
    }
  }

  /** Closes idle connections (lets a process or a test exit). */
  destroy(): void {
    this.current?.close();
    this.current = undefined;
  }

  /** The pool for `settings`: the current one, or a new one from `make` (the old one closed). */
  private pool<P>(settings: TlsSettings, make: () => P, close: (pool: P) => void): P {
    if (this.current && sameSettings(this.current.settings, settings)) {
      return this.current.pool as P;
    }
    this.current?.close();
    const pool = make();
    this.current = { settings, pool, close: () => close(pool) };
    return pool;
  }
}

/** Whether the current user's credentials come from an exec plugin, in either kubeconfig form. */
function usesExecPlugin(kubeConfig: KubeConfig): boolean {
  const user = kubeConfig.getCurrentUser();
  const provider = user?.authProvider as
    { name?: unknown; config?: { exec?: unknown } } | undefined;
  return Boolean(user?.exec || provider?.name === 'exec' || provider?.config?.exec);
}

/** What the two majors' `RequestContext`s offer for connections. */
interface TransportContext {
  getAgent?(): unknown;
  setAgent?(agent: unknown): void;
  getDispatcher?(): unknown;
  setDispatcher?(dispatcher: unknown): void;
}

interface Dispatcher {
  close(): Promise<void>;
}

function isDispatcher(value: unknown): value is Dispatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { close?: unknown }).close === 'function' &&
    typeof (value as { dispatch?: unknown }).dispatch === 'function'
  );
}

/** The TLS settings client-node derives from the current cluster and user. */
interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

function tlsSettings(kubeConfig: KubeConfig): TlsSettings {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const settings: TlsSettings = {};
  const ca = cluster ? bufferFromFileOrString(cluster.caFile, cluster.caData) : null;
  const cert = user ? bufferFromFileOrString(user.certFile, user.certData) : null;
  const key = user ? bufferFromFileOrString(user.keyFile, user.keyData) : null;
  if (ca) settings.ca = ca;
  if (cert) settings.cert = cert;
  if (key) settings.key = key;
  if (cluster?.skipTLSVerify) settings.rejectUnauthorized = false;
  if (cluster?.tlsServerName) settings.servername = cluster.tlsServerName;
  return settings;
}

/**
 * A credential from its file, else from its base64 data, else none: client-node's own
 * `bufferFromFileOrString` (the same in 1.x and 2.x), kept here so that building a review
 * client does not load client-node.
 */
function bufferFromFileOrString(file?: string, data?: string): Buffer | null {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return null;
}

const TLS_KEYS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'] as const;

function sameSettings(a: TlsSettings, b: TlsSettings): boolean {
  return TLS_KEYS.every((name) => {
    const x = a[name];
    const y = b[name];
    return x === y || (Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y));
  });
}
