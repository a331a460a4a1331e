import { X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { stderrLogger, type Logger } from '../logger.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Parses every certificate of a PEM bundle; throws when there is none or one is malformed. */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(`certificate ${i + 1} of the bundle cannot be parsed`);
    }
  });
}

/**
 * The client CA bundle that client certificates are verified against. From a file, it is read
 * at start (an unreadable, empty or unparseable file throws, naming the option) and re-read when
 * the file changes, as the kubelet's dynamic CA content does: the folder is watched, so atomic
 * replacements and Kubernetes' `..data` symlink swaps are seen; a broken new file is logged and
 * the last good bundle stays in force. `version` changes whenever the bundle does.
 */
export class CABundle {
  private roots: readonly X509Certificate[];
  private bytes: string;
  private watcher: FSWatcher | undefined;
  private pending: NodeJS.Timeout | undefined;
  private generation = 0;

  private constructor(
    pem: string,
    private readonly source: { file?: string; option: string; logger: Logger },
  ) {
    this.bytes = pem;
    this.roots = parseCertificateBundle(pem);
  }

  /** A bundle from PEM text (not watched). */
  static fromPEM(pem: string | Buffer, option = 'clientCA'): CABundle {
    return CABundle.create(pem.toString(), { option, logger: stderrLogger });
  }

  /** A bundle from a file, watched for changes unless `watch` is false. */
  static fromFile(
    file: string,
    options: { option?: string; logger?: Logger; watch?: boolean } = {},
  ): CABundle {
    const option = options.option ?? 'clientCAFile';
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new TypeError(
        `${option}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const bundle = CABundle.create(pem, { file, option, logger: options.logger ?? stderrLogger });
    if (options.watch !== false) bundle.startWatching();
    return bundle;
  }

  private static create(
    pem: string,
    source: { file?: string; option: string; logger: Logger },
  ): CABundle {
    try {
      return new CABundle(pem, source);
    } catch (error) {
      const where = source.file ? ` in ${source.file}` : '';
      throw new TypeError(
        `${source.option}: invalid CA bundle${where}: ${(error as Error).message}`,
      );
    }
  }

  /** The trusted roots now in force. */
  get certificates(): readonly X509Certificate[] {
    return this.roots;
  }

  /** Changes each time a new bundle takes effect (verification caches key on it). */
  get version(): number {
    return this.generation;
  }

  /** Reads the file again now; keeps the current bundle when the new one is broken. */
  reload(): void {
    const file = this.source.file;
    if (!file) return;
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      this.source.logger.warn(
        `${this.source.option}: cannot re-read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); keeping the previous client CA bundle`,
      );
      return;
    }
    if (pem === this.bytes) return;
    try {
      this.roots = parseCertificateBundle(pem);
      this.bytes = pem;
      this.generation++;
    } catch (error) {
      this.source.logger.warn(
        `${this.source.option}: ${file} is not a valid CA bundle (${(error as Error).message}); keeping the previous client CA bundle`,
      );
    }
  }

  /** Stops watching the file (lets the process exit cleanly in tests). */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pending) clearTimeout(this.pending);
  }

  private startWatching(): void {
    const file = this.source.file;
    if (!file) return;
    const name = basename(file);
    try {
      this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        // Any change in the folder may be a symlink swap (`..data`); reading is cheap and
        // identical bytes are ignored. Debounced: editors and `kubectl cp` write in bursts.
        if (changed !== null && changed !== name && !changed.startsWith('..')) return;
        if (this.pending) clearTimeout(this.pending);
        this.pending = setTimeout(() => this.reload(), 50);
        this.pending.unref();
      });
      this.watcher.on('error', () => this.close());
    } catch (error) {
      this.source.logger.warn(
        `${this.source.option}: cannot watch ${file} for changes (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
}
