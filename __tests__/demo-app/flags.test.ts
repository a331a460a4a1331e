import { describe, expect, it } from '@jest/globals';
import { CliError } from '../../demo-app/cli-error.js';
import type { FlagValues } from '../../demo-app/flags.js';
import { parseCommandLine } from '../../demo-app/flags.js';

describe('parseCommandLine (pflag syntax, kubelet flag names)', () => {
  it.each<[string[], FlagValues]>([
    [[], {}],
    [['--port=10251'], { port: 10251 }],
    [['--port', '10251'], { port: 10251 }],
    [['--address=127.0.0.1'], { address: '127.0.0.1' }],
    [['--address', '::1'], { address: '::1' }],
    [
      ['--tls-cert-file=/a.crt', '--tls-private-key-file', '/a.key'],
      { 'tls-cert-file': '/a.crt', 'tls-private-key-file': '/a.key' },
    ],
    [['--client-ca-file=/ca.crt'], { 'client-ca-file': '/ca.crt' }],
    [['--kubeconfig', '/kc'], { kubeconfig: '/kc' }],
    [['--hostname-override=Node-X'], { 'hostname-override': 'Node-X' }],
    [['--config=/k.yaml'], { config: '/k.yaml' }],
    [['--authorization-mode=Webhook'], { 'authorization-mode': 'Webhook' }],
    [['--authorization-mode', 'AlwaysAllow'], { 'authorization-mode': 'AlwaysAllow' }],
    [
      ['--authentication-token-webhook-cache-ttl=1m30s'],
      { 'authentication-token-webhook-cache-ttl': 90_000 },
    ],
    [
      ['--authorization-webhook-cache-authorized-ttl', '0'],
      { 'authorization-webhook-cache-authorized-ttl': 0 },
    ],
    [
      ['--authorization-webhook-cache-unauthorized-ttl=1h'],
      { 'authorization-webhook-cache-unauthorized-ttl': 3_600_000 },
    ],
    // The last occurrence wins, as with pflag.
    [['--port=1', '--port=2'], { port: 2 }],
    // A value that looks like a flag is still the value of a non-boolean flag (pflag).
    [['--hostname-override', '--x'], { 'hostname-override': '--x' }],
  ])('%j → %j', (argv, flags) => {
    expect(parseCommandLine(argv)).toEqual({ help: false, flags });
  });

  it.each<[string, boolean]>([
    ['--anonymous-auth', true],
    ['--anonymous-auth=true', true],
    ['--anonymous-auth=false', false],
    ['--anonymous-auth=1', true],
    ['--anonymous-auth=0', false],
    ['--anonymous-auth=t', true],
    ['--anonymous-auth=f', false],
    ['--anonymous-auth=T', true],
    ['--anonymous-auth=F', false],
    ['--anonymous-auth=TRUE', true],
    ['--anonymous-auth=FALSE', false],
    ['--anonymous-auth=True', true],
    ['--anonymous-auth=False', false],
  ])('boolean %s → %s (Go strconv.ParseBool)', (arg, value) => {
    expect(parseCommandLine([arg]).flags['anonymous-auth']).toBe(value);
    const webhook = arg.replace('anonymous-auth', 'authentication-token-webhook');
    expect(parseCommandLine([webhook]).flags['authentication-token-webhook']).toBe(value);
  });

  it('a bare boolean does not take the next argument', () => {
    expect(parseCommandLine(['--anonymous-auth', '--port=5']).flags).toEqual({
      'anonymous-auth': true,
      port: 5,
    });
  });

  it.each<[string[], Partial<Record<'KubeletFineGrainedAuthz' | 'ContainerCheckpoint', boolean>>]>([
    [['--feature-gates=KubeletFineGrainedAuthz=false'], { KubeletFineGrainedAuthz: false }],
    [
      ['--feature-gates', 'ContainerCheckpoint=false,KubeletFineGrainedAuthz=true'],
      { ContainerCheckpoint: false, KubeletFineGrainedAuthz: true },
    ],
    [['--feature-gates= ContainerCheckpoint = 0 '], { ContainerCheckpoint: false }],
    [
      [
        '--feature-gates=ContainerCheckpoint=false',
        '--feature-gates=KubeletFineGrainedAuthz=false',
      ],
      { ContainerCheckpoint: false, KubeletFineGrainedAuthz: false },
    ],
    [['--feature-gates='], {}],
  ])('feature gates %j → %j (repeated flags merge)', (argv, gates) => {
    expect(parseCommandLine(argv).flags['feature-gates']).toEqual(gates);
  });

  it.each([['-h'], ['--help'], ['--help=true'], ['--port=1', '-h']])(
    '%s asks for help',
    (...argv) => {
      expect(parseCommandLine(argv).help).toBe(true);
    },
  );

  it.each<[string[], string]>([
    [['--port=abc'], 'invalid value "abc" for flag --port: must be an integer between 1 and 65535'],
    [
      ['--port=70000'],
      'invalid value "70000" for flag --port: must be between 1 and 65535, inclusive',
    ],
    [['--port=0'], 'invalid value "0" for flag --port: must be between 1 and 65535, inclusive'],
    [['--port=-1'], 'invalid value "-1" for flag --port: must be an integer between 1 and 65535'],
    [['--port'], 'flag needs an argument: --port'],
    [
      ['--address=localhost'],
      'invalid value "localhost" for flag --address: "localhost" is not a valid IP address',
    ],
    [
      ['--authorization-mode=Foo'],
      'invalid value "Foo" for flag --authorization-mode: unknown authorization mode Foo (valid: AlwaysAllow, Webhook)',
    ],
    [
      ['--authorization-mode=webhook'],
      'invalid value "webhook" for flag --authorization-mode: unknown authorization mode webhook (valid: AlwaysAllow, Webhook)',
    ],
    [
      ['--authorization-mode='],
      'invalid value "" for flag --authorization-mode: no authorization mode specified',
    ],
    [
      ['--authentication-token-webhook-cache-ttl=5'],
      'invalid value "5" for flag --authentication-token-webhook-cache-ttl: must be a Go duration such as 2m0s, 30s or 1h',
    ],
    [
      ['--authorization-webhook-cache-authorized-ttl=-1s'],
      'invalid value "-1s" for flag --authorization-webhook-cache-authorized-ttl: must not be negative',
    ],
    [
      ['--authorization-webhook-cache-unauthorized-ttl=soon'],
      'invalid value "soon" for flag --authorization-webhook-cache-unauthorized-ttl: must be a Go duration such as 2m0s, 30s or 1h',
    ],
    [
      ['--anonymous-auth=yes'],
      'invalid value "yes" for flag --anonymous-auth: must be a boolean (true or false)',
    ],
    [
      ['--anonymous-auth='],
      'invalid value "" for flag --anonymous-auth: must be a boolean (true or false)',
    ],
    [
      ['--authentication-token-webhook=tRuE'],
      'invalid value "tRuE" for flag --authentication-token-webhook: must be a boolean (true or false)',
    ],
    [
      ['--feature-gates=Foo=true'],
      'invalid value "Foo=true" for flag --feature-gates: unrecognized feature gate: Foo',
    ],
    [
      ['--feature-gates=ContainerCheckpoint'],
      'invalid value "ContainerCheckpoint" for flag --feature-gates: missing bool value for ContainerCheckpoint',
    ],
    [
      ['--feature-gates=ContainerCheckpoint=maybe'],
      'invalid value "ContainerCheckpoint=maybe" for flag --feature-gates: invalid value of ContainerCheckpoint=maybe, expected true or false',
    ],
    [['--foo'], 'unknown flag: --foo'],
    [['--foo=bar'], 'unknown flag: --foo'],
    [['--no-anonymous-auth'], 'unknown flag: --no-anonymous-auth'],
    [['--v=2'], 'unknown flag: --v'],
    [['-p'], "unknown shorthand flag: 'p' in -p"],
    [['---port=1'], 'bad flag syntax: ---port=1'],
    [['serve'], 'unexpected argument "serve"'],
    [['--', 'x'], 'unexpected argument "x"'],
    [
      ['--anonymous-auth', 'false'],
      'unexpected argument "false" (boolean flags take a value only after "=": --anonymous-auth=false)',
    ],
  ])('%j fails: %s', (argv, message) => {
    let caught: unknown;
    try {
      parseCommandLine(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as Error).message).toBe(message);
    expect((caught as Error).message).not.toContain('\n');
  });
});
