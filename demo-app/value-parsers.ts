/**
 * Readers for the typed settings shared by flags and the config file. Each returns the value
 * or throws an `Error` whose message is only the reason; the caller names the flag or field.
 */
import { isIP } from 'node:net';
import type { KubeletAuthorizationMode } from 'express-kubelet-auth';
import { parseGoDuration } from 'express-kubelet-auth/kubelet';

/** A TCP port the kubelet accepts: its validation requires 1–65535. */
export function parsePort(value: string | number): number {
  const port = typeof value === 'number' ? value : /^\+?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port)) throw new Error('must be an integer between 1 and 65535');
  if (port < 1 || port > 65535) throw new Error('must be between 1 and 65535, inclusive');
  return port;
}

/** `--address` is an IP flag in the kubelet: host names are not accepted. */
export function parseIpAddress(value: string): string {
  if (isIP(value) === 0) throw new Error(`${JSON.stringify(value)} is not a valid IP address`);
  return value;
}

/** The kubelet's authorization modes, case-sensitive, with its own start-up messages. */
export function parseAuthorizationMode(value: string): KubeletAuthorizationMode {
  if (value === 'AlwaysAllow' || value === 'Webhook') return value;
  if (value === '') throw new Error('no authorization mode specified');
  throw new Error(`unknown authorization mode ${value} (valid: AlwaysAllow, Webhook)`);
}

/** A Go duration (`2m0s`, `30s`, `1h`) in milliseconds; negative durations make no sense as TTLs. */
export function parseDurationText(value: string): number {
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new Error('must be a Go duration such as 2m0s, 30s or 1h');
  if (ms < 0) throw new Error('must not be negative');
  return ms;
}
