/** What {@link extensionApiserverAuthentication} writes, as kube-apiserver's flags name it. */
export interface ExtensionApiserverAuthentication {
  /** PEM of the client CAs (`--client-ca-file`). */
  clientCA?: string;
  /** PEM of the front-proxy CAs (`--requestheader-client-ca-file`); the lists need it. */
  requestHeaderCA?: string;
  /** `--requestheader-allowed-names`. Default: none (any certificate the CA signed). */
  allowedNames?: string[];
  /** `--requestheader-username-headers`. Default: `['X-Remote-User']`. */
  usernameHeaders?: string[];
  /** `--requestheader-uid-headers`. Default: `['X-Remote-Uid']`. */
  uidHeaders?: string[];
  /** `--requestheader-group-headers`. Default: `['X-Remote-Group']`. */
  groupHeaders?: string[];
  /** `--requestheader-extra-headers-prefix`. Default: `['X-Remote-Extra-']`. */
  extraHeaderPrefixes?: string[];
}

/**
 * The `data` of `kube-system/extension-apiserver-authentication` as kube-apiserver writes it:
 * `client-ca-file` when there is a client CA; the `requestheader-*` keys, lists as JSON arrays,
 * only when there is a front-proxy CA. For the stand-in API server's `setConfigMap`.
 *
 * @example
 * api.setConfigMap('kube-system', 'extension-apiserver-authentication',
 *   extensionApiserverAuthentication({ clientCA: clientCA.cert, requestHeaderCA: frontProxyCA.cert }));
 */
export function extensionApiserverAuthentication(
  config: ExtensionApiserverAuthentication,
): Record<string, string> {
  const data: Record<string, string> = {};
  if (config.clientCA) data['client-ca-file'] = config.clientCA;
  if (!config.requestHeaderCA) return data;
  data['requestheader-allowed-names'] = JSON.stringify(config.allowedNames ?? []);
  data['requestheader-client-ca-file'] = config.requestHeaderCA;
  data['requestheader-extra-headers-prefix'] = JSON.stringify(
    config.extraHeaderPrefixes ?? ['X-Remote-Extra-'],
  );
  data['requestheader-group-headers'] = JSON.stringify(config.groupHeaders ?? ['X-Remote-Group']);
  data['requestheader-uid-headers'] = JSON.stringify(config.uidHeaders ?? ['X-Remote-Uid']);
  data['requestheader-username-headers'] = JSON.stringify(
    config.usernameHeaders ?? ['X-Remote-User'],
  );
  return data;
}
