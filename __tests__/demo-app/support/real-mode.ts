import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../../demo-app/flags.js';
import { resolveEffectiveConfig } from '../../../demo-app/kubelet-config.js';
import { preflight } from '../../../demo-app/preflight.js';
import { startKubelet, type RunningKubelet, type StartOptions } from '../../../demo-app/server.js';
import type { StandInApiServer } from '../../../lib/testing/index.js';
import type { Pki } from '../../integration/harness.js';
import { freePort } from './free-port.js';

/**
 * The mock kubelet in real mode, in process, as its flags configure it: client certificates from
 * `pki`, tokens and authorization through `api`, anonymous off, node `node-a` on a free port.
 * `extraFlags` come after the common ones.
 */
export async function startRealModeKubelet(
  pki: Pki,
  api: StandInApiServer,
  options: StartOptions,
  extraFlags: string[] = [],
): Promise<RunningKubelet> {
  const dir = mkdtempSync(join(tmpdir(), 'eka-real-mode-'));
  const files = {
    kubeconfig: api.kubeconfigYaml('cert'),
    'tls.crt': pki.serving.cert,
    'tls.key': pki.serving.key,
  };
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  const flags = parseCommandLine([
    '--address=127.0.0.1',
    `--port=${await freePort()}`,
    '--anonymous-auth=false',
    `--client-ca-file=${pki.clientCAFile}`,
    '--authentication-token-webhook',
    '--authorization-mode=Webhook',
    `--kubeconfig=${join(dir, 'kubeconfig')}`,
    `--tls-cert-file=${join(dir, 'tls.crt')}`,
    `--tls-private-key-file=${join(dir, 'tls.key')}`,
    '--hostname-override=node-a',
    ...extraFlags,
  ]).flags;
  const prepared = await preflight(resolveEffectiveConfig(flags, { hostname: 'h' }));
  return startKubelet(prepared, options);
}
