import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CABundle, parseCertificateBundle } from '../../lib/authn/ca-bundle.js';
import { createCA, type CertificateAuthority } from '../../lib/testing/index.js';

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

  it.each([0, -1, NaN, Infinity])('refuses a poll interval of %p ms at start', (interval) => {
    const file = join(mkdtempSync(join(tmpdir(), 'eka-ca-')), 'ca.crt');
    writeFileSync(file, 'unread');
    expect(() => CABundle.fromFile(file, { pollIntervalMs: interval })).toThrow(
      /^clientCAFile: pollIntervalMs: expected a positive number/,
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
    const infos: string[] = [];
    const bundle = CABundle.fromFile(file, {
      logger: { warn: (m) => warnings.push(m), info: (m) => infos.push(m) },
    });
    open.push(bundle);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=first']);

    // Atomic replacement, as configuration tools do it.
    writeFileSync(join(dir, 'ca.new'), second.cert);
    renameSync(join(dir, 'ca.new'), file);
    await until(() => bundle.certificates[0]?.subject === 'CN=second');
    expect(bundle.version).toBe(1);
    expect(infos).toEqual([`clientCAFile: reloaded ${file} (1 certificate)`]);
    expect(warnings).toEqual([]);

    writeFileSync(file, 'not a certificate');
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/is not a valid CA bundle .*keeping the previous client CA bundle/);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=second']);
    expect(bundle.version).toBe(1);
  });
});

describe('CABundle.empty and update: a bundle a source keeps', () => {
  it('trusts nothing until updated, then takes each new bundle whole, and keeps it when the next is broken', async () => {
    const [first, second] = await Promise.all([
      createCA({ commonName: 'first' }),
      createCA({ commonName: 'second' }),
    ]);
    const bundle = CABundle.empty();
    expect(bundle.certificates).toEqual([]);
    expect(bundle.version).toBe(0);
    expect(bundle.update(first.cert)).toBe(true);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=first']);
    expect(bundle.update(Buffer.from(first.cert))).toBe(false);
    expect(bundle.version).toBe(1);
    expect(() =>
      bundle.update('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    ).toThrow('certificate 1 of the bundle cannot be parsed');
    expect(() => bundle.update('')).toThrow('no PEM certificate found');
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=first']);
    expect(bundle.update(`${first.cert}${second.cert}`)).toBe(true);
    expect(bundle.certificates.map((c) => c.subject)).toEqual(['CN=first', 'CN=second']);
    expect(bundle.version).toBe(2);
  });
});

describe('CABundle: following the file when watching fails', () => {
  let first: CertificateAuthority;
  let second: CertificateAuthority;
  beforeAll(async () => {
    [first, second] = await Promise.all([
      createCA({ commonName: 'first' }),
      createCA({ commonName: 'second' }),
    ]);
  });

  /** A bundle file in a folder of its own, watched; `pollIntervalMs` keeps a fallback quick. */
  function watched(options: Parameters<typeof CABundle.fromFile>[1] = {}) {
    const dir = join(mkdtempSync(join(tmpdir(), 'eka-ca-')), 'pki');
    mkdirSync(dir);
    const file = join(dir, 'ca.crt');
    writeFileSync(file, first.cert);
    const warnings: string[] = [];
    const bundle = CABundle.fromFile(file, {
      logger: { warn: (m) => warnings.push(m) },
      pollIntervalMs: 20,
      ...options,
    });
    open.push(bundle);
    const subjects = () => bundle.certificates.map((c) => c.subject);
    return { dir, file, bundle, warnings, subjects };
  }

  /** Writes `pem` beside `file` and renames it over the file, as rotation tools do. */
  function rotate(file: string, pem: string): void {
    writeFileSync(`${file}.new`, pem);
    renameSync(`${file}.new`, file);
  }

  it('keeps the last good bundle while the file is removed, and takes it when written back', async () => {
    const { file, warnings, subjects } = watched();
    unlinkSync(file);
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/cannot re-read .*ENOENT.*keeping the previous client CA bundle/);
    expect(subjects()).toEqual(['CN=first']);
    writeFileSync(file, second.cert);
    await until(() => subjects()[0] === 'CN=second');
  });

  it('follows a Kubernetes-style symlink swap of the folder the file is read through', async () => {
    // ca.crt -> ..data/ca.crt, ..data -> a timestamped folder, swapped by a rename.
    const dir = mkdtempSync(join(tmpdir(), 'eka-ca-'));
    const version = (name: string, pem: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'ca.crt'), pem);
    };
    version('..2024_01', first.cert);
    symlinkSync('..2024_01', join(dir, '..data'));
    symlinkSync(join('..data', 'ca.crt'), join(dir, 'ca.crt'));
    const bundle = CABundle.fromFile(join(dir, 'ca.crt'), { logger: { warn: () => undefined } });
    open.push(bundle);
    version('..2024_02', second.cert);
    symlinkSync('..2024_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await until(() => bundle.certificates[0]?.subject === 'CN=second');
  });

  it('logs a watcher error once, keeps the bundle, and goes on following the file by polling', () => {
    // Fake timers count the polls: each step below is a known number of reads of the file.
    jest.useFakeTimers();
    try {
      // A folder watcher that reports no change and then fails, as fs.watch may (EMFILE, ENOSPC).
      const failing = new EventEmitter();
      const { file, warnings, subjects } = watched({
        watchFolder: () => Object.assign(failing, { close: () => undefined }),
      });
      const emfile = () => Object.assign(new Error('too many open files'), { code: 'EMFILE' });
      failing.emit('error', emfile());
      failing.emit('error', emfile());
      expect(warnings).toEqual([
        expect.stringMatching(/clientCAFile: watching .*ca\.crt failed \(EMFILE\); polling it/),
      ]);
      expect(subjects()).toEqual(['CN=first']);

      rotate(file, second.cert);
      jest.advanceTimersByTime(20);
      expect(subjects()).toEqual(['CN=second']);

      // Ten polls meet the broken file: reported once, and the last good bundle stays.
      writeFileSync(file, 'not a certificate');
      jest.advanceTimersByTime(10 * 20);
      expect(subjects()).toEqual(['CN=second']);
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toMatch(
        /is not a valid CA bundle .*keeping the previous client CA bundle/,
      );

      unlinkSync(file);
      jest.advanceTimersByTime(10 * 20);
      expect(warnings).toHaveLength(3);
      expect(warnings[2]).toMatch(/cannot re-read .*ENOENT.*keeping the previous/);
      writeFileSync(file, first.cert);
      jest.advanceTimersByTime(20);
      expect(subjects()).toEqual(['CN=first']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('polls the file when the folder cannot be watched at all', async () => {
    const { file, warnings, subjects } = watched({
      watchFolder: () => {
        throw Object.assign(new Error('not supported'), { code: 'ENOSYS' });
      },
    });
    expect(warnings).toEqual([expect.stringMatching(/watching .* failed \(ENOSYS\); polling/)]);
    rotate(file, second.cert);
    await until(() => subjects()[0] === 'CN=second');
  });

  it('goes on following the file when its folder is removed and created again', async () => {
    const { dir, file, warnings, subjects } = watched();
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    writeFileSync(file, second.cert);
    await until(() => subjects()[0] === 'CN=second');
    rotate(file, first.cert);
    await until(() => subjects()[0] === 'CN=first');
    expect(warnings).toEqual([]);
  });

  it('polls for the file while its folder is gone, logging that once', async () => {
    const { dir, file, warnings, subjects } = watched();
    rmSync(dir, { recursive: true });
    await until(() => warnings.some((w) => /watching .* failed \(ENOENT\); polling/.test(w)));
    expect(subjects()).toEqual(['CN=first']);
    mkdirSync(dir);
    writeFileSync(file, second.cert);
    await until(() => subjects()[0] === 'CN=second');
    expect(warnings.filter((w) => /watching .* failed/.test(w))).toHaveLength(1);
  });
});
