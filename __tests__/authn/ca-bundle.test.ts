import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CABundle, parseCertificateBundle } from '../../lib/authn/ca-bundle.js';
import { createCA } from '../../lib/testing/index.js';

const open: CABundle[] = [];
afterEach(() => open.splice(0).forEach((b) => b.close()));

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CABundle', () => {
  it('parses every certificate of a PEM bundle', async () => {
    const [a, b] = await Promise.all([
      createCA({ commonName: 'a' }),
      createCA({ commonName: 'b' }),
    ]);
    expect(parseCertificateBundle(`${a.cert}\n${b.cert}`).map((c) => c.subject)).toEqual([
      'CN=a',
      'CN=b',
    ]);
  });

  it.each([
    ['an empty file', ''],
    ['text without certificates', 'hello'],
    ['a broken certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('refuses %s at start, naming the option', (_name, content) => {
    const file = join(mkdtempSync(join(tmpdir(), 'eka-ca-')), 'ca.crt');
    writeFileSync(file, content);
    expect(() => CABundle.fromFile(file, { option: 'authentication.x509.clientCAFile' })).toThrow(
      /^authentication\.x509\.clientCAFile: invalid CA bundle in /,
    );
  });

  it('takes a rotated CA without restart and keeps the last good bundle when the file breaks', async () => {
    const [first, second] = await Promise.all([
      createCA({ commonName: 'first' }),
      createCA({ commonName: 'second' }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'eka-ca-'));
    const file = join(dir, 'ca.crt');
    writeFileSync(file, first.cert);
    const warnings: string[] = [];
    const bundle = CABundle.fromFile(file, { logger: { warn: (m) => warnings.push(m) } });
    open.push(bundle);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=first']);

    // Atomic replacement, as configuration tools do it.
    writeFileSync(join(dir, 'ca.new'), second.cert);
    renameSync(join(dir, 'ca.new'), file);
    await until(() => bundle.certificates[0]?.subject === 'CN=second');
    expect(bundle.version).toBe(1);

    writeFileSync(file, 'not a certificate');
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/is not a valid CA bundle .*keeping the previous client CA bundle/);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=second']);
    expect(bundle.version).toBe(1);
  });
});
