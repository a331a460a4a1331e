/**
 * The kubelet flags the mock kubelet accepts: the same names, meanings and (command-line)
 * defaults as `cmd/kubelet/app/options/options.go`, so scripts written for a real kubelet
 * work unchanged. The table drives parsing (flags.ts) and `--help` (usage.ts).
 */

/** How a flag's text is read. `bool` flags may be given bare (`--anonymous-auth`), as in pflag. */
export type FlagKind = 'bool' | 'string' | 'ip' | 'port' | 'duration' | 'mode' | 'gates';

export interface FlagSpec {
  kind: FlagKind;
  /** The word shown after the flag name in `--help` (pflag's type name). */
  typeName: string;
  usage: string;
  /** The default as pflag prints it; absent when pflag prints none (empty string). */
  defaultText?: string;
}

export const FLAG_SPECS = {
  address: {
    kind: 'ip',
    typeName: 'ip',
    usage:
      'The IP address for the Kubelet to serve on (set to 0.0.0.0 or :: for listening on all interfaces and IP address families)',
    defaultText: '0.0.0.0',
  },
  port: {
    kind: 'port',
    typeName: 'int32',
    usage: 'The port for the Kubelet to serve on.',
    defaultText: '10250',
  },
  'tls-cert-file': {
    kind: 'string',
    typeName: 'string',
    usage:
      'File containing x509 Certificate used for serving HTTPS (with intermediate certs, if any, concatenated after server cert). If --tls-cert-file and --tls-private-key-file are not provided, a self-signed certificate and key are generated for the public address.',
  },
  'tls-private-key-file': {
    kind: 'string',
    typeName: 'string',
    usage: 'File containing x509 private key matching --tls-cert-file.',
  },
  'client-ca-file': {
    kind: 'string',
    typeName: 'string',
    usage:
      'If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.',
  },
  'anonymous-auth': {
    kind: 'bool',
    typeName: '',
    usage:
      'Enables anonymous requests to the Kubelet server. Requests that are not rejected by another authentication method are treated as anonymous requests. Anonymous requests have a username of system:anonymous, and a group name of system:unauthenticated.',
    defaultText: 'true',
  },
  'authentication-token-webhook': {
    kind: 'bool',
    typeName: '',
    usage: 'Use the TokenReview API to determine authentication for bearer tokens.',
  },
  'authentication-token-webhook-cache-ttl': {
    kind: 'duration',
    typeName: 'duration',
    usage: 'The duration to cache responses from the webhook token authenticator.',
    defaultText: '2m0s',
  },
  'authorization-mode': {
    kind: 'mode',
    typeName: 'string',
    usage:
      "Authorization mode for Kubelet server. Valid options are 'AlwaysAllow' or 'Webhook'. Webhook mode uses the SubjectAccessReview API to determine authorization.",
    defaultText: 'AlwaysAllow',
  },
  'authorization-webhook-cache-authorized-ttl': {
    kind: 'duration',
    typeName: 'duration',
    usage: "The duration to cache 'authorized' responses from the webhook authorizer.",
    defaultText: '5m0s',
  },
  'authorization-webhook-cache-unauthorized-ttl': {
    kind: 'duration',
    typeName: 'duration',
    usage: "The duration to cache 'unauthorized' responses from the webhook authorizer.",
    defaultText: '30s',
  },
  kubeconfig: {
    kind: 'string',
    typeName: 'string',
    usage:
      'Path to a kubeconfig file, specifying how to connect to the API server (TokenReview and SubjectAccessReview). Required by --authentication-token-webhook and --authorization-mode=Webhook.',
  },
  'hostname-override': {
    kind: 'string',
    typeName: 'string',
    usage:
      'If non-empty, will use this string as identification (the node name sent in SubjectAccessReviews) instead of the actual hostname.',
  },
  'feature-gates': {
    kind: 'gates',
    typeName: 'mapStringBool',
    usage:
      'A set of key=value pairs that describe feature gates. Options are:\nContainerCheckpoint=true|false (BETA - default=true)\nKubeletFineGrainedAuthz=true|false (GA - default=true)',
  },
  config: {
    kind: 'string',
    typeName: 'string',
    usage:
      'The Kubelet will load its initial configuration from this file (a kubelet.config.k8s.io/v1beta1 KubeletConfiguration). Command-line flags override configuration from this file.',
  },
  help: {
    kind: 'bool',
    typeName: '',
    usage: 'help for mock-kubelet',
  },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAG_SPECS;

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAG_SPECS, name);
}
