/**
 * The effective configuration, resolved as the kubelet resolves it: defaults (the command-line
 * set, or the v1beta1 file set when `--config` is given), then the file, then every flag given
 * on the command line (kubernetes/kubernetes#56171: flags win). Feature gates merge per gate.
 */
import type { FileSettings } from './config-file.js';
import { configFieldLabel, readConfigFile } from './config-file.js';
import type { FlagValues } from './flags.js';
import type { SettingName, Settings } from './settings.js';
import { CONFIG_FIELDS, CONFIG_FILE_DEFAULTS, FLAG_DEFAULTS } from './settings.js';

export interface EffectiveConfig {
  /** The merged settings, keyed by flag name; durations in milliseconds. */
  settings: Settings;
  /**
   * Where each setting came from, worded for error messages: `flag --port`,
   * `field port of --config file /etc/kubelet.yaml`, or the default set it came from.
   */
  origins: Record<SettingName, string>;
  /** `--kubeconfig` ('' = none): flag only, as in the kubelet. */
  kubeconfig: string;
  /** The node name sent in SubjectAccessReviews: `--hostname-override`, else the host name. */
  nodeName: string;
  /** `--config` ('' = none). */
  configFile: string;
}

/** Resolves flags (+ the file they name) into the effective configuration. */
export function resolveEffectiveConfig(
  flags: FlagValues,
  environment: { hostname: string },
): EffectiveConfig {
  const configFile = flags.config ?? '';
  const file: FileSettings = configFile === '' ? {} : readConfigFile(configFile);
  const defaults = configFile === '' ? FLAG_DEFAULTS : CONFIG_FILE_DEFAULTS;
  const defaultLabel =
    configFile === '' ? 'the kubelet flag default' : 'the KubeletConfiguration default';

  const settings = { ...defaults } as Settings;
  const origins = {} as Record<SettingName, string>;
  for (const name of Object.keys(CONFIG_FIELDS) as SettingName[]) {
    origins[name] = `${defaultLabel} of ${configFile === '' ? `--${name}` : CONFIG_FIELDS[name]}`;
    if (name === 'feature-gates') continue;
    if (file[name] !== undefined) {
      origins[name] = configFieldLabel(name, configFile);
    }
    if (flags[name] !== undefined) {
      origins[name] = `flag --${name}`;
    }
    assign(settings, name, flags[name] ?? file[name] ?? defaults[name]);
  }
  settings['feature-gates'] = {
    ...defaults['feature-gates'],
    ...file['feature-gates'],
    ...flags['feature-gates'],
  };
  if (flags['feature-gates'] !== undefined) origins['feature-gates'] = 'flag --feature-gates';
  else if (file['feature-gates'] !== undefined) {
    origins['feature-gates'] = configFieldLabel('feature-gates', configFile);
  }

  // The kubelet lower-cases and trims the node name it derives (nodeutil.GetHostname).
  const nodeName = (flags['hostname-override'] || environment.hostname).trim().toLowerCase();
  return { settings, origins, kubeconfig: flags.kubeconfig ?? '', nodeName, configFile };
}

// A typed assignment through a union key, which TypeScript cannot check by itself.
function assign<K extends SettingName>(settings: Settings, name: K, value: Settings[K]): void {
  settings[name] = value;
}
