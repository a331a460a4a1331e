/**
 * The settings that exist both as a kubelet flag and as a KubeletConfiguration field, keyed by
 * flag name, with the two default sets the kubelet has: the command-line defaults
 * apply when no `--config` is given, the v1beta1 file defaults when one is.
 */
import type { KubeletAuthorizationMode } from 'express-kubelet-auth';
import type { FeatureGates } from './feature-gates.js';
import { DEFAULT_FEATURE_GATES } from './feature-gates.js';

/** Durations are milliseconds. */
export interface Settings {
  address: string;
  port: number;
  'tls-cert-file': string;
  'tls-private-key-file': string;
  'client-ca-file': string;
  'anonymous-auth': boolean;
  'authentication-token-webhook': boolean;
  'authentication-token-webhook-cache-ttl': number;
  'authorization-mode': KubeletAuthorizationMode;
  'authorization-webhook-cache-authorized-ttl': number;
  'authorization-webhook-cache-unauthorized-ttl': number;
  'feature-gates': FeatureGates;
}

export type SettingName = keyof Settings;

/** Where each setting lives in a KubeletConfiguration file. */
export const CONFIG_FIELDS: Readonly<Record<SettingName, string>> = {
  address: 'address',
  port: 'port',
  'tls-cert-file': 'tlsCertFile',
  'tls-private-key-file': 'tlsPrivateKeyFile',
  'client-ca-file': 'authentication.x509.clientCAFile',
  'anonymous-auth': 'authentication.anonymous.enabled',
  'authentication-token-webhook': 'authentication.webhook.enabled',
  'authentication-token-webhook-cache-ttl': 'authentication.webhook.cacheTTL',
  'authorization-mode': 'authorization.mode',
  'authorization-webhook-cache-authorized-ttl': 'authorization.webhook.cacheAuthorizedTTL',
  'authorization-webhook-cache-unauthorized-ttl': 'authorization.webhook.cacheUnauthorizedTTL',
  'feature-gates': 'featureGates',
};

const SHARED_DEFAULTS = {
  address: '0.0.0.0',
  port: 10250,
  'tls-cert-file': '',
  'tls-private-key-file': '',
  'client-ca-file': '',
  'authentication-token-webhook-cache-ttl': 2 * 60_000,
  'authorization-webhook-cache-authorized-ttl': 5 * 60_000,
  'authorization-webhook-cache-unauthorized-ttl': 30_000,
} as const;

/** The kubelet's command-line defaults (`applyLegacyDefaults`): permissive. */
export const FLAG_DEFAULTS: Readonly<Settings> = {
  ...SHARED_DEFAULTS,
  'anonymous-auth': true,
  'authentication-token-webhook': false,
  'authorization-mode': 'AlwaysAllow',
  'feature-gates': DEFAULT_FEATURE_GATES,
};

/** The `kubelet.config.k8s.io/v1beta1` defaults: secure. */
export const CONFIG_FILE_DEFAULTS: Readonly<Settings> = {
  ...SHARED_DEFAULTS,
  'anonymous-auth': false,
  'authentication-token-webhook': true,
  'authorization-mode': 'Webhook',
  'feature-gates': DEFAULT_FEATURE_GATES,
};
