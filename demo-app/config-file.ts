/**
 * Reads the `--config` file: a `kubelet.config.k8s.io/v1beta1` KubeletConfiguration, decoded
 * strictly: a field name KubeletConfiguration does not have, or one named twice, is refused.
 * Only the fields the mock kubelet honours are read (other KubeletConfiguration fields are
 * accepted and ignored, so a real kubelet's file can be reused); those are type-checked, and
 * values the v1beta1 defaulter treats as unset (zero durations, port 0, empty strings) come back
 * absent so the file defaults apply, exactly the kubelet's zero-duration trap.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { CliError, invalidValue } from './cli-error.js';
import { describeFsError } from './fs-error.js';
import type { FeatureGates } from './feature-gates.js';
import { isFeatureGateName } from './feature-gates.js';
import { KUBELET_CONFIGURATION_FIELDS } from './kubelet-config-fields.js';
import type { SettingName, Settings } from './settings.js';
import { CONFIG_FIELDS } from './settings.js';
import { strictFieldErrors } from './strict-fields.js';
import {
  parseAuthorizationMode,
  parseDurationText,
  parseIpAddress,
  parsePort,
} from './value-parsers.js';

export const CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const CONFIG_KIND = 'KubeletConfiguration';

/** The settings a config file sets; feature gates only those it names. */
export type FileSettings = Partial<Omit<Settings, 'feature-gates'>> & {
  'feature-gates'?: Partial<FeatureGates>;
};

/** How an error names a field of the file, e.g. `field port of --config file /etc/k.yaml`. */
export function configFieldLabel(name: SettingName, path: string): string {
  return `field ${CONFIG_FIELDS[name]} of --config file ${path}`;
}

/** Reads and checks the file; throws a {@link CliError} naming the file or the field. */
export function readConfigFile(path: string): FileSettings {
  const fileLabel = 'flag --config';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidValue(fileLabel, path, describeFsError(error));
  }
  // Duplicate keys are left to the strict check, which names them.
  const yamlDoc = parseDocument(text, { uniqueKeys: false });
  let doc: unknown;
  try {
    const [yamlError] = yamlDoc.errors;
    if (yamlError !== undefined) throw yamlError;
    doc = yamlDoc.toJS();
  } catch (error) {
    throw invalidValue(fileLabel, path, `not valid YAML: ${firstLine(error)}`);
  }
  if (doc === null || doc === undefined) {
    throw invalidValue(fileLabel, path, 'the kubelet config file is empty');
  }
  if (!isRecord(doc)) throw invalidValue(fileLabel, path, 'expected a YAML mapping');
  if (doc.kind !== CONFIG_KIND || doc.apiVersion !== CONFIG_API_VERSION) {
    throw invalidValue(
      fileLabel,
      path,
      `expected kind ${CONFIG_KIND} of apiVersion ${CONFIG_API_VERSION}, got kind ${JSON.stringify(doc.kind ?? '')} of apiVersion ${JSON.stringify(doc.apiVersion ?? '')}`,
    );
  }
  const strictErrors = strictFieldErrors(yamlDoc, KUBELET_CONFIGURATION_FIELDS);
  if (strictErrors.length > 0) {
    throw invalidValue(fileLabel, path, `strict decoding error: ${strictErrors.join(', ')}`);
  }

  const settings: FileSettings = {};
  const read = (name: SettingName): unknown => lookup(doc, CONFIG_FIELDS[name], path);
  const fail = (name: SettingName, value: unknown, reason: string): CliError =>
    invalidValue(configFieldLabel(name, path), display(value), reason);
  // Relative paths in a kubelet config file are relative to the file, as the kubelet resolves them.
  const filePath = (name: SettingName): string | undefined => {
    const value = read(name);
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw fail(name, value, 'must be a string');
    return isAbsolute(value) ? value : resolve(dirname(path), value);
  };
  const bool = (name: SettingName): boolean | undefined => {
    const value = read(name);
    if (value === undefined || typeof value === 'boolean') return value;
    throw fail(name, value, 'must be true or false');
  };
  const duration = (name: SettingName): number | undefined => {
    const value = read(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string')
      throw fail(name, value, 'must be a duration string such as 2m0s');
    let ms: number;
    try {
      ms = parseDurationText(value);
    } catch (error) {
      throw fail(name, value, (error as Error).message);
    }
    return ms === 0 ? undefined : ms;
  };

  const address = read('address');
  if (address !== undefined && address !== '') {
    if (typeof address !== 'string') throw fail('address', address, 'must be a string');
    settings.address = withReason(
      () => parseIpAddress(address),
      (r) => fail('address', address, r),
    );
  }
  const port = read('port');
  if (port !== undefined && port !== 0) {
    if (typeof port !== 'number') throw fail('port', port, 'must be an integer');
    settings.port = withReason(
      () => parsePort(port),
      (r) => fail('port', port, r),
    );
  }
  assignDefined(settings, 'tls-cert-file', filePath('tls-cert-file'));
  assignDefined(settings, 'tls-private-key-file', filePath('tls-private-key-file'));
  assignDefined(settings, 'client-ca-file', filePath('client-ca-file'));
  assignDefined(settings, 'anonymous-auth', bool('anonymous-auth'));
  assignDefined(settings, 'authentication-token-webhook', bool('authentication-token-webhook'));
  assignDefined(
    settings,
    'authentication-token-webhook-cache-ttl',
    duration('authentication-token-webhook-cache-ttl'),
  );
  const mode = read('authorization-mode');
  if (mode !== undefined && mode !== '') {
    if (typeof mode !== 'string') throw fail('authorization-mode', mode, 'must be a string');
    settings['authorization-mode'] = withReason(
      () => parseAuthorizationMode(mode),
      (r) => fail('authorization-mode', mode, r),
    );
  }
  assignDefined(
    settings,
    'authorization-webhook-cache-authorized-ttl',
    duration('authorization-webhook-cache-authorized-ttl'),
  );
  assignDefined(
    settings,
    'authorization-webhook-cache-unauthorized-ttl',
    duration('authorization-webhook-cache-unauthorized-ttl'),
  );
  const gates = read('feature-gates');
  if (gates !== undefined) {
    if (!isRecord(gates)) throw fail('feature-gates', gates, 'must be a map of gate name to bool');
    const parsed: Partial<FeatureGates> = {};
    for (const [name, value] of Object.entries(gates)) {
      if (!isFeatureGateName(name)) {
        throw fail('feature-gates', gates, `unrecognized feature gate: ${name}`);
      }
      if (typeof value !== 'boolean') {
        throw fail('feature-gates', gates, `${name} must be true or false`);
      }
      parsed[name] = value;
    }
    settings['feature-gates'] = parsed;
  }
  return settings;
}

/**
 * The value at a dotted path, `undefined` when it or a parent is absent or null (Go leaves a
 * nil pointer unset). A parent that is not a mapping is an error.
 */
function lookup(doc: Record<string, unknown>, dotted: string, path: string): unknown {
  let node: unknown = doc;
  const parts = dotted.split('.');
  for (const [index, key] of parts.entries()) {
    if (node === undefined || node === null) return undefined;
    if (!isRecord(node)) {
      const parent = parts.slice(0, index).join('.');
      throw new CliError(`invalid --config file ${path}: field ${parent} must be a mapping`);
    }
    node = node[key];
  }
  return node === null ? undefined : node;
}

function assignDefined<K extends keyof FileSettings>(
  target: FileSettings,
  key: K,
  value: FileSettings[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}

function withReason<T>(parse: () => T, fail: (reason: string) => CliError): T {
  try {
    return parse();
  } catch (error) {
    throw fail((error as Error).message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function display(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
