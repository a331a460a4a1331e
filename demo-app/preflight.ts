/**
 * Start-up checks the kubelet makes before it serves anything: files that must be readable
 * and well-formed, and combinations it refuses (`BuildAuthn` / `BuildAuthz` in
 * cmd/kubelet/app/auth.go). Each failure is one {@link CliError} naming the flag or config
 * field the value came from, so the mock fails the way a kubelet would, at start, not on the
 * first request.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { CliError, invalidValue } from './cli-error.js';
import { describeFsError } from './fs-error.js';
import type { EffectiveConfig } from './kubelet-config.js';

/** What the server needs beyond the effective configuration, loaded and checked. */
export interface PreparedKubelet {
  config: EffectiveConfig;
  /** The serving certificate and key, or `undefined` to generate a self-signed pair. */
  servingPair: { cert: string; key: string } | undefined;
  /** The API server client, or `undefined` when `--kubeconfig` was not given. */
  kubeConfig: KubeConfig | undefined;
}

/** Runs every check; rejects with the first failure as a {@link CliError}. */
export async function preflight(config: EffectiveConfig): Promise<PreparedKubelet> {
  const servingPair = loadServingPair(config);
  checkClientCA(config);
  checkAuthCombination(config, config.kubeconfig !== '');
  const kubeConfig = config.kubeconfig === '' ? undefined : await loadKubeConfig(config.kubeconfig);
  return { config, servingPair, kubeConfig };
}

function loadServingPair(config: EffectiveConfig): PreparedKubelet['servingPair'] {
  const { settings, origins } = config;
  const certFile = settings['tls-cert-file'];
  const keyFile = settings['tls-private-key-file'];
  if (certFile === '' && keyFile === '') return undefined;
  if (keyFile === '') {
    throw new CliError(
      `${origins['tls-cert-file']} is set but --tls-private-key-file is not: both are needed`,
    );
  }
  if (certFile === '') {
    throw new CliError(
      `${origins['tls-private-key-file']} is set but --tls-cert-file is not: both are needed`,
    );
  }
  const cert = readText(certFile, origins['tls-cert-file']);
  const key = readText(keyFile, origins['tls-private-key-file']);
  try {
    new X509Certificate(cert);
  } catch {
    throw invalidValue(origins['tls-cert-file'], certFile, 'no PEM certificate found');
  }
  try {
    createPrivateKey(key);
  } catch {
    throw invalidValue(origins['tls-private-key-file'], keyFile, 'no PEM private key found');
  }
  try {
    createSecureContext({ cert, key });
  } catch {
    throw invalidValue(
      origins['tls-private-key-file'],
      keyFile,
      `the private key does not match the certificate in ${certFile}`,
    );
  }
  return { cert, key };
}

// The middleware reads (and watches) the bundle itself; reading it here too turns a missing or
// empty file into a start-up error naming the flag, as the kubelet's start-up load does.
function checkClientCA(config: EffectiveConfig): void {
  const file = config.settings['client-ca-file'];
  if (file === '') return;
  const origin = config.origins['client-ca-file'];
  const text = readText(file, origin);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw invalidValue(origin, file, 'the file contains no PEM certificates');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalidValue(origin, file, 'the file contains a certificate that cannot be parsed');
    }
  }
}

async function loadKubeConfig(file: string): Promise<KubeConfig> {
  const origin = 'flag --kubeconfig';
  readText(file, origin);
  // Loaded here, not at the top: client-node takes a second to import, and most start-up
  // mistakes can be reported without it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  try {
    // loadFromFile (not loadFromString) so relative certificate paths resolve against the file.
    kubeConfig.loadFromFile(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw invalidValue(origin, file, `not a valid kubeconfig: ${reason}`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server) {
    throw invalidValue(origin, file, 'no current context with a cluster server');
  }
  return kubeConfig;
}

function checkAuthCombination(config: EffectiveConfig, hasClient: boolean): void {
  const { settings, origins } = config;
  const webhookAuthn = settings['authentication-token-webhook'];
  if (webhookAuthn && !hasClient) {
    throw new CliError(
      `no client provided, cannot use webhook authentication: ${origins['authentication-token-webhook']} enables it, but --kubeconfig is not set`,
    );
  }
  if (!webhookAuthn && settings['client-ca-file'] === '' && !settings['anonymous-auth']) {
    throw new CliError(
      `no authentication method configured: ${origins['anonymous-auth']} turns anonymous requests off, and neither --client-ca-file nor --authentication-token-webhook is set`,
    );
  }
  if (settings['authorization-mode'] === 'Webhook' && !hasClient) {
    throw new CliError(
      `no client provided, cannot use webhook authorization: ${origins['authorization-mode']} sets mode Webhook, but --kubeconfig is not set`,
    );
  }
}

function readText(file: string, origin: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidValue(origin, file, describeFsError(error));
  }
}
