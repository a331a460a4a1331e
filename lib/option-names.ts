import { CLUSTER_AUTHENTICATION_ALIASES } from './authn/cluster-authentication/options.js';
import { REQUEST_HEADER_ALIASES } from './authn/request-header-options.js';
import { checkKnownKeys, optionNames } from './option-errors.js';
import type {
  KubeletAuthentication,
  KubeletAuthOptions,
  KubeletAuthorization,
  KubeletRequestHeader,
} from './options.js';

type Part<T, K extends keyof T> = Exclude<T[K], boolean | undefined>;

/** The option names `kubeletAuth` knows, by the path of the object that holds them. */
const KNOWN: Record<
  string,
  { names: readonly string[]; aliases?: Readonly<Record<string, string>> }
> = {
  '': {
    names: optionNames<KubeletAuthOptions>({
      nodeName: true,
      attributes: true,
      kubeConfig: true,
      reviewClient: true,
      authentication: true,
      authorization: true,
      fineGrained: true,
      audiences: true,
      timeout: true,
      cacheSize: true,
      maxConcurrentReviews: true,
      logger: true,
      onDecision: true,
      metrics: true,
      staleIfError: true,
      identityHeaders: true,
    }),
  },
  authentication: {
    names: optionNames<KubeletAuthentication>({
      x509: true,
      webhook: true,
      anonymous: true,
      requestHeader: true,
      oidc: true,
      clusterAuthentication: true,
    }),
  },
  'authentication.clusterAuthentication': {
    names: optionNames<Part<KubeletAuthentication, 'clusterAuthentication'>>({
      namespace: true,
      name: true,
      tolerateLookupFailure: true,
      timeout: true,
    }),
    aliases: CLUSTER_AUTHENTICATION_ALIASES,
  },
  'authentication.requestHeader': {
    names: optionNames<KubeletRequestHeader>({
      clientCAFile: true,
      allowedNames: true,
      usernameHeaders: true,
      uidHeaders: true,
      groupHeaders: true,
      extraHeaderPrefixes: true,
    }),
    aliases: REQUEST_HEADER_ALIASES,
  },
  'authentication.x509': {
    names: optionNames<Part<KubeletAuthentication, 'x509'>>({ clientCAFile: true }),
  },
  'authentication.webhook': {
    names: optionNames<Part<KubeletAuthentication, 'webhook'>>({ enabled: true, cacheTTL: true }),
  },
  'authentication.anonymous': {
    names: optionNames<Part<KubeletAuthentication, 'anonymous'>>({ enabled: true }),
  },
  authorization: {
    names: optionNames<KubeletAuthorization>({
      mode: true,
      webhook: true,
      alwaysAllowPaths: true,
      alwaysAllowGroups: true,
      static: true,
    }),
  },
  'authorization.webhook': {
    names: optionNames<Part<KubeletAuthorization, 'webhook'>>({
      cacheAuthorizedTTL: true,
      cacheUnauthorizedTTL: true,
    }),
  },
};

/**
 * Throws for the first option name of `options` (or of an object within, at any depth listed
 * above) that is not known, with the closest known name as a hint: typos fail loudly. An
 * upstream name for one of ours (a flag of kube-apiserver's, say) is pointed at ours, among the
 * names this object takes.
 */
export function checkOptionNames(options: object): void {
  checkWithin(options, '');
}

function checkWithin(value: object, path: string): void {
  const known = KNOWN[path];
  if (!known) return;
  const { names, aliases = {} } = known;
  const usable = Object.fromEntries(
    Object.entries(aliases).filter(([, meant]) => names.includes(meant)),
  );
  checkKnownKeys(path || 'kubeletAuth', value, names, { aliases: usable });
  for (const [key, child] of Object.entries(value)) {
    const name = path ? `${path}.${key}` : key;
    if (typeof child === 'object' && child !== null && KNOWN[name]) checkWithin(child, name);
  }
}
