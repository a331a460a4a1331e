import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import type { CliIO } from '../../demo-app/cli.js';
import { runCli } from '../../demo-app/cli.js';
import { FLAG_SPECS } from '../../demo-app/flag-specs.js';
import { freePort } from './support/free-port.js';
import { httpsRequest } from './support/https-client.js';

/** A CliIO that records output and stops when told to. */
function fakeIO(): CliIO & { out: string; err: string; stop(): void; ready: Promise<void> } {
  let stop: (signal: string) => void = () => undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const io = {
    out: '',
    err: '',
    ready,
    stdout(text: string) {
      io.out += text;
      if (text.includes('serving on')) markReady();
    },
    stderr(text: string) {
      io.err += text;
    },
    hostname: () => 'Test-Host',
    stopRequested: () => new Promise<string>((resolve) => (stop = resolve)),
    stop: () => stop('SIGTERM'),
  };
  return io;
}

describe('runCli', () => {
  it.each([
    ['an unknown flag', ['--\x1b]0;owned\x07bogus']],
    ['a flag value', ['--authorization-mode=\u009b2J\u2028Foo\u202e']],
    ['a file name', ['--client-ca-file=/nonexistent/\x1b[2J\u0085ca.crt']],
  ])('%s is echoed with its control characters escaped', async (_what, argv) => {
    const io = fakeIO();
    expect(await runCli(argv, io)).toBe(1);
    expect(io.err).toMatch(/^mock-kubelet: .*\\u00(1b|9b)/);
    // eslint-disable-next-line no-control-regex
    expect(io.err.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e]/);
  });

  it('--help prints every flag with its default and exits 0', async () => {
    const io = fakeIO();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const name of Object.keys(FLAG_SPECS)) expect(io.out).toContain(`--${name}`);
    expect(io.out).toContain('(default 10250)');
    expect(io.out).toContain('(default AlwaysAllow)');
    expect(io.err).toBe('');
  });

  it.each([
    [
      ['--port=abc'],
      'mock-kubelet: invalid value "abc" for flag --port: must be an integer between 1 and 65535\n',
    ],
    [
      ['--port=70000'],
      'mock-kubelet: invalid value "70000" for flag --port: must be between 1 and 65535, inclusive\n',
    ],
    [
      ['--authorization-mode=Foo'],
      'mock-kubelet: invalid value "Foo" for flag --authorization-mode: unknown authorization mode Foo (valid: AlwaysAllow, Webhook)\n',
    ],
    [['--bogus'], 'mock-kubelet: unknown flag: --bogus\n'],
    [
      ['--client-ca-file=/nonexistent/ca.crt'],
      'mock-kubelet: invalid value "/nonexistent/ca.crt" for flag --client-ca-file: no such file or directory\n',
    ],
    [
      ['--authentication-token-webhook'],
      'mock-kubelet: no client provided, cannot use webhook authentication: flag --authentication-token-webhook enables it, but --kubeconfig is not set\n',
    ],
  ])('%j exits 1 with one line on stderr', async (argv, message) => {
    const io = fakeIO();
    expect(await runCli(argv, io)).toBe(1);
    expect(io.err).toBe(message);
    expect(io.out).toBe('');
  });

  it('real mode names the node with its control characters escaped', async () => {
    const io = fakeIO();
    const exit = runCli(
      ['--address=127.0.0.1', `--port=${await freePort()}`, '--hostname-override=n\u009b2J\u202e'],
      io,
    );
    await Promise.race([io.ready, exit]);
    io.stop();
    await exit;
    expect(io.out).toContain('node "n\\u009b2j\\u202e" serving on');
    // eslint-disable-next-line no-control-regex
    expect(io.out + io.err).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it('real mode with the flag defaults: self-signed certificate, anonymous AlwaysAllow; stops with exit 0', async () => {
    const port = await freePort();
    const io = fakeIO();
    const exit = runCli(['--address=127.0.0.1', `--port=${port}`], io);
    await Promise.race([io.ready, exit]);
    expect(io.out).toBe(
      `mock-kubelet: node "test-host" serving on https://127.0.0.1:${port} (x509: off, token webhook: off, anonymous: on, authorization: AlwaysAllow)\n`,
    );

    try {
      const res = await httpsRequest(`https://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('ok');
      // The kubelet's self-signed certificate: CN "<host>@<unix time>", for its host name.
      const cert = new X509Certificate(res.peerCertificate.raw);
      expect(cert.subject).toMatch(/^CN=test-host@\d{10}$/);
      expect(cert.subjectAltName).toContain('DNS:test-host');
      expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
      expect(cert.issuer).toBe(cert.subject);
      expect(cert.verify(cert.publicKey)).toBe(true);

      const configz = JSON.parse(
        (await httpsRequest(`https://127.0.0.1:${port}/configz`)).body,
      ) as {
        kubeletconfig: {
          authorization: { mode: string };
          authentication: { anonymous: { enabled: boolean } };
        };
      };
      expect(configz.kubeletconfig.authorization.mode).toBe('AlwaysAllow');
      expect(configz.kubeletconfig.authentication.anonymous.enabled).toBe(true);
    } finally {
      io.stop();
    }
    expect(await exit).toBe(0);
    expect(io.err).toContain(
      'method=GET path=/healthz user="system:anonymous" decision=allowed status=200',
    );
    expect(io.err).toContain('mock-kubelet: SIGTERM received, finishing in-flight requests\n');
    expect(io.err).toContain('mock-kubelet: stopped\n');
  });

  it('a taken port is one line and exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const io = fakeIO();
      expect(await runCli(['--address=127.0.0.1', `--port=${port}`], io)).toBe(1);
      expect(io.err).toBe(`mock-kubelet: listen tcp 127.0.0.1:${port}: address already in use\n`);
    } finally {
      blocker.close();
    }
  });
});
