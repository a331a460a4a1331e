import { Agent } from 'node:https';

type AgentOptions = Agent['options'];

/** The TLS settings that make two agents interchangeable. */
const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
] as const;

/**
 * client-node builds a new `https.Agent` for every request, so every TokenReview and
 * SubjectAccessReview pays a TCP and TLS handshake. This keeps one keep-alive agent per set of
 * TLS settings and hands it out instead, as long as the settings are the same (credentials read
 * from files may rotate: new settings get a new agent). Proxy agents are left alone.
 */
export class KeepAliveAgents {
  private current: { options: AgentOptions; agent: Agent } | undefined;

  /** The shared agent to use in place of `fresh`, or `fresh` itself when it is not a plain https.Agent. */
  reuse(fresh: unknown): unknown {
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return fresh;
    const options = fresh.options;
    if (this.current && sameTls(this.current.options, options)) return this.current.agent;
    this.current?.agent.destroy();
    const agent = new Agent({ ...options, keepAlive: true, scheduling: 'lifo' });
    this.current = { options, agent };
    return agent;
  }

  /** Closes idle connections (lets a process or a test exit). */
  destroy(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }
}

function sameTls(a: AgentOptions, b: AgentOptions): boolean {
  return TLS_KEYS.every((key) => sameValue(a[key], b[key]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return false;
}
