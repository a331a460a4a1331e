// Express 5: the kubelet's authentication and authorization in one call.
//
//   KUBECONFIG=~/.kube/config CLIENT_CA_FILE=ca.crt TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key \
//     npx tsx examples/express5-one-call.ts
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { KubeConfig } from '@kubernetes/client-node';
import { continueWhenBodyRead, kubeletAuth, kubeUser } from 'express-kubelet-auth';

const env = process.env;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, or the pod's service account

const auth = kubeletAuth({
  nodeName: env.NODE_NAME ?? 'node-a',
  kubeConfig,
  authentication: {
    x509: { clientCAFile: env.CLIENT_CA_FILE ?? '/etc/kubernetes/pki/ca.crt' },
    webhook: { enabled: true, cacheTTL: '2m' },
  },
  authorization: { mode: 'Webhook' },
});

const app = express();
app.use(auth);
app.get('/stats/summary', (req, res) => {
  res.json({ servedTo: kubeUser(req)?.username });
});

const server = https.createServer(
  {
    key: readFileSync(env.TLS_KEY_FILE ?? 'tls.key'),
    cert: readFileSync(env.TLS_CERT_FILE ?? 'tls.crt'),
    // Ask for a client certificate, and let kubeletAuth verify it against the client CA bundle.
    requestCert: true,
    rejectUnauthorized: false,
  },
  app,
);
// As the kubelet's server: `100 Continue` only for a body a route reads, never before the check.
continueWhenBodyRead(server);
server.listen(Number(env.PORT ?? 10250), () => {
  console.log(`listening on https://localhost:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  auth.close(); // stops watching the CA file
});
