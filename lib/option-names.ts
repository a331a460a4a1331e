import { checkKnownKeys } from './option-errors.js';

/** The option names `kubeletAuth` knows, by the path of the object that holds them. */
const KNOWN: Record<string, readonly string[]> = {
  '': [
    'nodeName',
    'attributes',
    'kubeConfig',
    'reviewClient',
    'authentication',
    'authorization',
    'fineGrained',
    'audiences',
    'timeout',
    'cacheSize',
    'maxConcurrentReviews',
    'logger',
    'onDecision',
    'metrics',
    'staleIfError',
    'identityHeaders',
  ],
  authentication: [
    'x509',
    'webhook',
    'anonymous',
    'requestHeader',
    'oidc',
    'clusterAuthentication',
  ],
  'authentication.clusterAuthentication': ['namespace', 'name', 'tolerateLookupFailure', 'timeout'],
  'authentication.requestHeader': [
    'clientCAFile',
    'allowedNames',
    'usernameHeaders',
    'uidHeaders',
    'groupHeaders',
    'extraHeaderPrefixes',
  ],
  'authentication.x509': ['clientCAFile'],
  'authentication.webhook': ['enabled', 'cacheTTL'],
  'authentication.anonymous': ['enabled'],
  authorization: ['mode', 'webhook', 'alwaysAllowPaths', 'alwaysAllowGroups', 'static'],
  'authorization.webhook': ['cacheAuthorizedTTL', 'cacheUnauthorizedTTL'],
};

/**
 * Throws for the first option name of `options` (or of an object within, at any depth listed
 * above) that is not known, with the closest known name as a hint: typos fail loudly.
 */
export function checkOptionNames(options: object): void {
  checkWithin(options, '');
}

function checkWithin(value: object, path: string): void {
  const known = KNOWN[path];
  if (!known) return;
  checkKnownKeys(path || 'kubeletAuth', value, known);
  for (const [key, child] of Object.entries(value)) {
    const name = path ? `${path}.${key}` : key;
    if (typeof child === 'object' && child !== null && KNOWN[name]) checkWithin(child, name);
  }
}
