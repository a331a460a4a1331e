// Connect (or any framework that takes Node's `(req, res, next)`): the same one call.
//
//   KUBECONFIG=~/.kube/config CLIENT_CA_FILE=ca.crt TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key \
//     npx tsx examples/connect.ts
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import connect from 'connect';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeletAuth, kubeUser } from 'express-kubelet-auth';

const env = process.env;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

const auth = kubeletAuth({
  nodeName: env.NODE_NAME ?? 'node-a',
  kubeConfig,
  authentication: { x509: { clientCAFile: env.CLIENT_CA_FILE ?? '/etc/kubernetes/pki/ca.crt' } },
});

const app = connect();
app.use(auth);
app.use('/stats/summary', (req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ servedTo: kubeUser(req)?.username }));
});

const server = https.createServer(
  {
    key: readFileSync(env.TLS_KEY_FILE ?? 'tls.key'),
    cert: readFileSync(env.TLS_CERT_FILE ?? 'tls.crt'),
    requestCert: true, // verified by kubeletAuth, not by TLS
    rejectUnauthorized: false,
  },
  app,
);
server.listen(Number(env.PORT ?? 10250), () => {
  console.log(`listening on https://localhost:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  auth.close();
});
