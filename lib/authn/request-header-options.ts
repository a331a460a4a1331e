import type { Logger } from '../logger.js';
import { checkCount, checkKnownKeys, invalidOption } from '../option-errors.js';
import type { CABundle } from './ca-bundle.js';
import {
  REQUEST_HEADER_SETTING_NAMES,
  requestHeaderSettings,
  type RequestHeaderSettingsSource,
} from './request-header-settings.js';

/**
 * Options of `RequestHeaderAuthenticator`, named after kube-apiserver's
 * `--requestheader-*` flags. One of `clientCAFile`, `clientCA`, `bundle` is required.
 */
export interface RequestHeaderAuthenticatorOptions {
  /**
   * PEM file of the CAs that sign front proxies' client certificates
   * (`--requestheader-client-ca-file`); re-read when it changes. Not the client CA: a
   * certificate this CA signs lets its holder assert any identity.
   */
  clientCAFile?: string;
  /** PEM text of those CAs (not watched). */
  clientCA?: string | Buffer;
  /** A bundle already loaded, or one a source keeps up to date (`clusterAuthentication`). */
  bundle?: CABundle;
  /**
   * Subject common names a front proxy's certificate may have (`--requestheader-allowed-names`).
   * Default: `[]`, any certificate the CA signed.
   */
  allowedNames?: readonly string[];
  /** Headers holding the user name, tried in order; the first non-empty one wins. Default: `['X-Remote-User']`. */
  usernameHeaders?: readonly string[];
  /** Headers holding the UID, tried in order. Default: `['X-Remote-Uid']`. */
  uidHeaders?: readonly string[];
  /** Headers holding groups; every non-empty value of each is a group. Default: `['X-Remote-Group']`. */
  groupHeaders?: readonly string[];
  /** Prefixes of the headers holding `extra` values. Default: `['X-Remote-Extra-']`. */
  extraHeaderPrefixes?: readonly string[];
  /**
   * Settings that change while the server runs, in place of the five above (which it then
   * excludes): `clusterAuthentication(…).requestHeader`, with its `requestHeaderCA` as `bundle`.
   * Each request is read with the settings in force when it arrived.
   */
  settings?: RequestHeaderSettingsSource;
  /**
   * Where identity headers sent with an untrusted certificate are reported (once per
   * connection). Default: standard error.
   */
  logger?: Logger;
  /** The clock, in ms since the epoch (for tests). Default: `Date.now`. */
  now?: () => number;
  /**
   * Most certificate chains whose verdict is kept across connections, and most front-proxy
   * certificates whose intermediates are kept for resumed TLS sessions. Default: 10000.
   */
  cacheSize?: number;
}

/** Every option name, for the did-you-mean of a misspelt one. */
const OPTION_NAMES = [
  'clientCAFile',
  'clientCA',
  'bundle',
  ...REQUEST_HEADER_SETTING_NAMES,
  'settings',
  'logger',
  'now',
  'cacheSize',
] as const;
/** Upstream's names for the same options, pointed at ours. */
export const REQUEST_HEADER_ALIASES: Readonly<Record<string, string>> = {
  allowedClientNames: 'allowedNames',
  requestheaderAllowedNames: 'allowedNames',
  requestheaderClientCAFile: 'clientCAFile',
  requestheaderUsernameHeaders: 'usernameHeaders',
  requestheaderUIDHeaders: 'uidHeaders',
  requestheaderGroupHeaders: 'groupHeaders',
  requestheaderExtraHeadersPrefix: 'extraHeaderPrefixes',
  extraHeadersPrefix: 'extraHeaderPrefixes',
};

/**
 * Checks the options of `RequestHeaderAuthenticator` (all but the CA, which is read last)
 * and returns the settings they give: a source that changes them, or their own.
 */
export function checkOptions(
  options: RequestHeaderAuthenticatorOptions,
): RequestHeaderSettingsSource {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(
      'RequestHeaderAuthenticator: options are required ({ clientCAFile, allowedNames? })',
    );
  }
  checkKnownKeys('RequestHeaderAuthenticator', options, OPTION_NAMES, {
    aliases: REQUEST_HEADER_ALIASES,
  });
  if (options.cacheSize !== undefined) {
    checkCount(options.cacheSize, 'RequestHeaderAuthenticator: cacheSize', 'entries');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw invalidOption('RequestHeaderAuthenticator: now: expected a function');
  }
  const { settings } = options;
  if (settings === undefined) {
    const current = requestHeaderSettings(options, {
      where: 'RequestHeaderAuthenticator',
      defaults: true,
    });
    return { current, version: 0 };
  }
  const fixed = REQUEST_HEADER_SETTING_NAMES.find((name) => options[name] !== undefined);
  if (fixed !== undefined) {
    throw invalidOption(
      `RequestHeaderAuthenticator: ${fixed}: cannot be given with settings, which decide it`,
    );
  }
  if (
    typeof settings !== 'object' ||
    settings === null ||
    typeof settings.current !== 'object' ||
    typeof settings.version !== 'number'
  ) {
    throw invalidOption(
      'RequestHeaderAuthenticator: settings: expected a source with current and version (clusterAuthentication(…).requestHeader)',
    );
  }
  return settings;
}
