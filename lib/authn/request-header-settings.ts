import { isHeaderName } from '../identity/identity-headers.js';
import { DEFAULT_REQUEST_HEADERS } from '../defaults.js';
import { invalidOption } from '../option-errors.js';

/**
 * Request-header settings that may change while the server runs, such as those of the cluster's
 * `extension-apiserver-authentication` ConfigMap (`ClusterAuthentication.requestHeader`).
 */
export interface RequestHeaderSettingsSource {
  /**
   * The settings in force, named after kube-apiserver's `--requestheader-*` flags. Read once per
   * request, so that one request is read with one set of them.
   */
  readonly current: {
    /** Subject common names a front proxy's certificate may have; empty: any the CA signed. */
    readonly allowedNames: readonly string[];
    /** Headers holding the user name, tried in order; the first non-empty one wins. */
    readonly usernameHeaders: readonly string[];
    /** Headers holding the UID, tried in order. */
    readonly uidHeaders: readonly string[];
    /** Headers holding groups; every non-empty value of each is a group. */
    readonly groupHeaders: readonly string[];
    /** Prefixes of the headers holding `extra` values. */
    readonly extraHeaderPrefixes: readonly string[];
  };
  /** Changes whenever `current` does. */
  readonly version: number;
}

/** What front-proxy authentication reads besides its CA: which proxies, which headers. */
export type RequestHeaderSettings = RequestHeaderSettingsSource['current'];

/** {@link RequestHeaderSettings} as given: any of them may be left out. */
export type RequestHeaderSettingsInput = {
  -readonly [K in keyof RequestHeaderSettings]?: readonly string[];
};

/** The setting names, in the order errors list them. */
export const REQUEST_HEADER_SETTING_NAMES = [
  'allowedNames',
  'usernameHeaders',
  'uidHeaders',
  'groupHeaders',
  'extraHeaderPrefixes',
] as const;

/** Settings that let no one in: no header names, so no request names a user. */
export const NO_REQUEST_HEADER_SETTINGS: RequestHeaderSettings = Object.freeze({
  allowedNames: Object.freeze([]),
  usernameHeaders: Object.freeze([]),
  uidHeaders: Object.freeze([]),
  groupHeaders: Object.freeze([]),
  extraHeaderPrefixes: Object.freeze([]),
});

/**
 * Checks `input` and fills what it leaves out: with the `X-Remote-*` defaults for options given
 * in code (`defaults: true`, and at least one user name header), with nothing for settings read
 * from the cluster, which upstream takes as they are. Header names are trimmed, as upstream's
 * `trimHeaders`; an empty or malformed one throws `ERR_INVALID_OPTION`, naming `where`.
 */
export function requestHeaderSettings(
  input: RequestHeaderSettingsInput,
  { where, defaults }: { where: string; defaults: boolean },
): RequestHeaderSettings {
  const fallback = defaults ? DEFAULT_REQUEST_HEADERS : NO_REQUEST_HEADER_SETTINGS;
  const settings: RequestHeaderSettings = Object.freeze({
    allowedNames: nameList(input.allowedNames, where),
    usernameHeaders:
      headerList(input.usernameHeaders, `${where}: usernameHeaders`) ?? fallback.usernameHeaders,
    uidHeaders: headerList(input.uidHeaders, `${where}: uidHeaders`) ?? fallback.uidHeaders,
    groupHeaders: headerList(input.groupHeaders, `${where}: groupHeaders`) ?? fallback.groupHeaders,
    extraHeaderPrefixes:
      headerList(input.extraHeaderPrefixes, `${where}: extraHeaderPrefixes`) ??
      fallback.extraHeaderPrefixes,
  });
  if (defaults && settings.usernameHeaders.length === 0) {
    throw invalidOption(`${where}: usernameHeaders: at least one is needed`);
  }
  return settings;
}

/** Whether two sets of settings are the same, list for list. */
export function sameRequestHeaderSettings(
  a: RequestHeaderSettings,
  b: RequestHeaderSettings,
): boolean {
  return REQUEST_HEADER_SETTING_NAMES.every((name) => {
    const x = a[name];
    const y = b[name];
    return x.length === y.length && x.every((value, i) => value === y[i]);
  });
}

/**
 * Request-header settings that a source replaces as it learns new ones (the cluster's ConfigMap
 * does). They start as {@link NO_REQUEST_HEADER_SETTINGS}.
 */
export class LiveRequestHeaderSettings implements RequestHeaderSettingsSource {
  private settings: RequestHeaderSettings = NO_REQUEST_HEADER_SETTINGS;
  private generation = 0;

  get current(): RequestHeaderSettings {
    return this.settings;
  }

  get version(): number {
    return this.generation;
  }

  /**
   * Puts `settings` in force for every request from now on. Returns false, changing nothing,
   * when they are the settings already in force.
   */
  set(settings: RequestHeaderSettings): boolean {
    if (sameRequestHeaderSettings(settings, this.settings)) return false;
    this.settings = settings;
    this.generation++;
    return true;
  }
}

/** Upstream's `trimHeaders`: names trimmed; an empty one is an error (so is a non-token here). */
function headerList(
  value: readonly string[] | undefined,
  where: string,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidOption(`${where}: expected an array of header names`);
  return Object.freeze(
    value.map((name: unknown) => {
      const trimmed = typeof name === 'string' ? name.trim() : '';
      if (!isHeaderName(trimmed)) {
        throw invalidOption(`${where}: not a header name: ${JSON.stringify(name)}`);
      }
      return trimmed;
    }),
  );
}

function nameList(value: readonly string[] | undefined, where: string): readonly string[] {
  if (value === undefined) return NO_REQUEST_HEADER_SETTINGS.allowedNames;
  if (!Array.isArray(value) || !value.every((n: unknown) => typeof n === 'string' && n !== '')) {
    throw invalidOption(
      `${where}: allowedNames: expected an array of non-empty common names (omit it to allow any)`,
    );
  }
  return Object.freeze([...value]);
}
