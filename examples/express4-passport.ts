// Express 4, composed from passport pieces: client certificate or token, then the kubelet's
// authorization through SubjectAccessReview.
//
//   KUBECONFIG=~/.kube/config CLIENT_CA_FILE=ca.crt TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key \
//     npx tsx examples/express4-passport.ts
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express'; // express@4
import passport from 'passport';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ClientCertStrategy,
  TokenReviewStrategy,
  closeIfBodyUnread,
  continueWhenBodyRead,
  kubeUser,
  kubeletAuthz,
  webhookAuthorizer,
} from 'express-kubelet-auth';

const env = process.env;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

const clientCerts = new ClientCertStrategy({
  clientCAFile: env.CLIENT_CA_FILE ?? '/etc/kubernetes/pki/ca.crt',
});
passport.use(clientCerts); // name 'kube-x509'
passport.use(new TokenReviewStrategy({ kubeConfig, cacheTTL: '2m' })); // name 'kube-token'

const app = express();
app.use(passport.authenticate(['kube-x509', 'kube-token'], { session: false }));
app.use(
  kubeletAuthz({
    nodeName: env.NODE_NAME ?? 'node-a',
    authorizer: webhookAuthorizer({ kubeConfig }),
  }),
);
app.get('/stats/summary', (req, res) => {
  res.json({ servedTo: kubeUser(req)?.username });
});

const server = https.createServer(
  {
    key: readFileSync(env.TLS_KEY_FILE ?? 'tls.key'),
    cert: readFileSync(env.TLS_CERT_FILE ?? 'tls.crt'),
    requestCert: true, // verified by the kube-x509 strategy, not by TLS
    rejectUnauthorized: false,
  },
  app,
);
// passport's own 401 leaves Node to read a body still arriving to its end: bound it, and invite
// a body (`100 Continue`) only once a route reads it, as the kubelet's server does.
server.on('request', closeIfBodyUnread);
continueWhenBodyRead(server);
server.listen(Number(env.PORT ?? 10250), () => {
  console.log(`listening on https://localhost:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  clientCerts.close(); // stops watching the CA file
});
