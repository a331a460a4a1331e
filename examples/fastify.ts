// Fastify 5: the kubelet's authentication and authorization as a plugin.
//
//   KUBECONFIG=~/.kube/config CLIENT_CA_FILE=ca.crt TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key \
//     npx tsx examples/fastify.ts
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { KubeConfig } from '@kubernetes/client-node';
import { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';

const env = process.env;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, or the pod's service account

const app = Fastify({
  https: {
    key: readFileSync(env.TLS_KEY_FILE ?? 'tls.key'),
    cert: readFileSync(env.TLS_CERT_FILE ?? 'tls.crt'),
    // Ask for a client certificate, and let the plugin verify it against the client CA bundle.
    requestCert: true,
    rejectUnauthorized: false,
  },
});

// First, so that every route (and the 404 handler) is behind it.
await app.register(fastifyKubeletAuth, {
  nodeName: env.NODE_NAME ?? 'node-a',
  kubeConfig,
  authentication: {
    x509: { clientCAFile: env.CLIENT_CA_FILE ?? '/etc/kubernetes/pki/ca.crt' },
    webhook: { enabled: true, cacheTTL: '2m' },
  },
  authorization: { mode: 'Webhook' },
});

app.get('/stats/summary', async (request) => ({ servedTo: request.kubeUser?.username }));

await app.listen({ port: Number(env.PORT ?? 10250), host: '0.0.0.0' });
console.log(`listening on https://localhost:${(app.server.address() as AddressInfo).port}`);
process.on('SIGTERM', () => {
  // Stops the server, then the plugin stops watching the CA file and closes its connections.
  void app.close();
});
