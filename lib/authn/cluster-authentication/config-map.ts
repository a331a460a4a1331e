import { parseCertificateBundle } from '../ca-bundle.js';
import {
  requestHeaderSettings,
  type RequestHeaderSettings,
  type RequestHeaderSettingsInput,
} from '../request-header-settings.js';

/**
 * The keys of `kube-system/extension-apiserver-authentication`, as kube-apiserver writes them
 * (its `--client-ca-file` and `--requestheader-*` flags) and k8s.io/apiserver reads them.
 */
export const CONFIG_MAP_KEYS = Object.freeze({
  clientCA: 'client-ca-file',
  requestHeaderCA: 'requestheader-client-ca-file',
  allowedNames: 'requestheader-allowed-names',
  usernameHeaders: 'requestheader-username-headers',
  uidHeaders: 'requestheader-uid-headers',
  groupHeaders: 'requestheader-group-headers',
  extraHeaderPrefixes: 'requestheader-extra-headers-prefix',
});

/** One part of the ConfigMap as read: left out, usable, or what is wrong with it. */
export type Part<T> =
  { kind: 'absent' } | { kind: 'valid'; value: T } | { kind: 'invalid'; problem: string };

/** A CA bundle as found in the ConfigMap: its text, and how many certificates it holds. */
export interface FoundBundle {
  pem: string;
  certificates: number;
}

/** What the ConfigMap says, part by part; each part is taken or kept as a whole. */
export interface ClusterAuthenticationConfig {
  /** `client-ca-file`. */
  clientCA: Part<FoundBundle>;
  /** `requestheader-client-ca-file` with the `requestheader-*` settings that go with it. */
  requestHeader: Part<{ ca: FoundBundle; settings: RequestHeaderSettings }>;
}

/**
 * Reads the ConfigMap's `data` as k8s.io/apiserver does: the CA bundles as PEM (an empty or
 * missing key means none), the `requestheader-*` lists as JSON arrays of strings (an empty or
 * missing key is an empty list, with no defaults). A part that cannot be read is `invalid`,
 * naming the key and why, never with the key's text.
 */
export function readClusterAuthentication(
  data: Readonly<Record<string, string>>,
): ClusterAuthenticationConfig {
  const clientCA = bundleAt(data, CONFIG_MAP_KEYS.clientCA);
  const requestHeaderCA = bundleAt(data, CONFIG_MAP_KEYS.requestHeaderCA);
  if (requestHeaderCA.kind !== 'valid') return { clientCA, requestHeader: requestHeaderCA };
  const input: RequestHeaderSettingsInput = {};
  for (const name of ['allowedNames', 'usernameHeaders', 'uidHeaders', 'groupHeaders'] as const) {
    const list = stringsAt(data, CONFIG_MAP_KEYS[name]);
    if (typeof list === 'string') return { clientCA, requestHeader: invalid(list) };
    input[name] = list;
  }
  const prefixes = stringsAt(data, CONFIG_MAP_KEYS.extraHeaderPrefixes);
  if (typeof prefixes === 'string') return { clientCA, requestHeader: invalid(prefixes) };
  input.extraHeaderPrefixes = prefixes;
  try {
    const settings = requestHeaderSettings(input, { where: 'requestheader', defaults: false });
    return {
      clientCA,
      requestHeader: { kind: 'valid', value: { ca: requestHeaderCA.value, settings } },
    };
  } catch (error) {
    // The message names the setting by its option name: name the ConfigMap's key instead.
    return { clientCA, requestHeader: invalid(keyedProblem((error as Error).message)) };
  }
}

function invalid(problem: string): { kind: 'invalid'; problem: string } {
  return { kind: 'invalid', problem };
}

function bundleAt(data: Readonly<Record<string, string>>, key: string): Part<FoundBundle> {
  const pem = Object.hasOwn(data, key) ? data[key] : undefined;
  if (pem === undefined || pem === '') return { kind: 'absent' };
  try {
    return { kind: 'valid', value: { pem, certificates: parseCertificateBundle(pem).length } };
  } catch (error) {
    return invalid(`${key} is not a valid CA bundle: ${(error as Error).message}`);
  }
}

/** upstream's `deserializeStrings`: '' is no list; otherwise a JSON array of strings. */
function stringsAt(data: Readonly<Record<string, string>>, key: string): string[] | string {
  const text = Object.hasOwn(data, key) ? data[key] : undefined;
  if (text === undefined || text === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${key} is not JSON (expected an array of strings)`;
  }
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    return `${key} is not a JSON array of strings`;
  }
  return value as string[];
}

/** `requestheader: usernameHeaders: …` as `requestheader-username-headers: …`. */
function keyedProblem(message: string): string {
  const match = /^requestheader: (\w+): (.*)$/s.exec(message);
  const key = match ? CONFIG_MAP_KEYS[match[1] as keyof typeof CONFIG_MAP_KEYS] : undefined;
  return key && match ? `${key}: ${match[2]}` : message;
}
