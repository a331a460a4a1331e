import { X509Certificate } from 'node:crypto';
import { readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DEFAULT_CA_POLL_INTERVAL_MS } from '../defaults.js';
import { levelled, type Logger } from '../logger.js';
import { checkKnownKeys, invalidOption, optionNames } from '../option-errors.js';

/** A folder watcher as {@link CABundle} uses one: `fs.watch`'s `FSWatcher` is one. */
export interface FolderWatcher {
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): void;
}

/** Starts watching `folder`, calling `onChange` with the name changed in it (or `null`). */
export type WatchFolder = (
  folder: string,
  onChange: (name: string | null) => void,
) => FolderWatcher;

/** Options of {@link CABundle.fromFile}. */
export interface CABundleFileOptions {
  /** The option name errors and warnings cite. Default: `'clientCAFile'`. */
  option?: string;
  /** Where reloads (info) and reload problems (warn) are reported. Default: `stderrLogger`. */
  logger?: Logger;
  /** Whether changes to the file are followed. Default: true. */
  watch?: boolean;
  /** How often the file is polled once its folder can no longer be watched, in ms. Default: 5000. */
  pollIntervalMs?: number;
  /** How the file's folder is watched (tests give one that fails). Default: `fs.watch`. */
  watchFolder?: WatchFolder;
}

const CA_BUNDLE_FILE_OPTIONS = optionNames<CABundleFileOptions>({
  option: true,
  logger: true,
  watch: true,
  pollIntervalMs: true,
  watchFolder: true,
});

const watchWithFs: WatchFolder = (folder, onChange) =>
  watch(folder, { persistent: false }, (_event, name) => onChange(name));

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses every certificate of a PEM bundle; throws `ERR_INVALID_OPTION` when there is none or one
 * is malformed.
 */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw invalidOption('no PEM certificate found');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw invalidOption(`certificate ${i + 1} of the bundle cannot be parsed`);
    }
  });
}

/**
 * The client CA bundle that client certificates are verified against. From a file, it is read
 * at start (an unreadable, empty or unparseable file throws, naming the option) and re-read when
 * the file changes, as the kubelet's dynamic CA content does: the folder is watched, so atomic
 * replacements and Kubernetes' `..data` symlink swaps are seen; a broken new file is logged and
 * the last good bundle stays in force. Should watching fail (a watcher error, a folder that
 * cannot be watched, the folder itself removed), that is logged once and the file is polled
 * from then on, so a later rotation is never missed. `version` changes whenever the bundle does.
 *
 * A bundle that another source keeps (the cluster's `extension-apiserver-authentication`
 * ConfigMap) starts {@link CABundle.empty} and takes each new bundle with {@link CABundle.update}:
 * the roots are replaced in one step, so a verification uses either the old bundle or the new.
 */
export class CABundle {
  private roots: readonly X509Certificate[];
  private bytes: string;
  /** How the file is followed, once {@link CABundle.fromFile} asked for it. */
  private following: { watchFolder: WatchFolder; pollIntervalMs: number } | undefined;
  private watcher: FolderWatcher | undefined;
  /** Set once watching failed: the file is then read at an interval. */
  private poll: NodeJS.Timeout | undefined;
  /** The last reload problem reported: the same one is not reported again until it clears. */
  private lastWarning: string | undefined;
  private closed = false;
  private pending: NodeJS.Timeout | undefined;
  /** The pending task is to watch the folder again (the folder changed), not only to re-read. */
  private rewatchDue = false;
  private generation = 0;

  private constructor(
    pem: string,
    private readonly source: { file?: string; option: string; logger: Required<Logger> },
    roots?: readonly X509Certificate[],
  ) {
    this.bytes = pem;
    this.roots = roots ?? parseCertificateBundle(pem);
  }

  /** A bundle from PEM text (not watched). */
  static fromPEM(pem: string | Buffer, option = 'clientCA'): CABundle {
    return CABundle.create(pem.toString(), { option, logger: levelled(undefined) });
  }

  /**
   * A bundle that trusts nothing until {@link CABundle.update} gives it certificates: every
   * client certificate is refused meanwhile (fail closed).
   */
  static empty(option = 'clientCA'): CABundle {
    return new CABundle('', { option, logger: levelled(undefined) }, []);
  }

  /** A bundle from a file, followed for changes unless `watch` is false. */
  static fromFile(file: string, options: CABundleFileOptions = {}): CABundle {
    checkKnownKeys('CABundle.fromFile', options, CA_BUNDLE_FILE_OPTIONS);
    const option = options.option ?? 'clientCAFile';
    const { pollIntervalMs = DEFAULT_CA_POLL_INTERVAL_MS } = options;
    if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) {
      throw invalidOption(`${option}: pollIntervalMs: expected a positive number of milliseconds`);
    }
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw invalidOption(
        `${option}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const bundle = CABundle.create(pem, { file, option, logger: levelled(options.logger) });
    if (options.watch !== false) {
      bundle.following = {
        watchFolder: options.watchFolder ?? watchWithFs,
        pollIntervalMs,
      };
      bundle.startWatching();
    }
    return bundle;
  }

  private static create(
    pem: string,
    source: { file?: string; option: string; logger: Required<Logger> },
  ): CABundle {
    try {
      return new CABundle(pem, source);
    } catch (error) {
      const where = source.file ? ` in ${source.file}` : '';
      throw invalidOption(
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

  /**
   * Puts the certificates of `pem` in force in place of the current ones, for every verification
   * from now on. Returns false, changing nothing, when `pem` is the bundle already in force; throws
   * (the current bundle staying in force) when it holds no certificate or a malformed one. For a
   * bundle that follows a file, the file has the last word: it is what the next change brings.
   */
  update(pem: string | Buffer): boolean {
    const text = pem.toString();
    if (text === this.bytes) return false;
    this.roots = parseCertificateBundle(text);
    this.bytes = text;
    this.generation++;
    return true;
  }

  /** Reads the file again now; keeps the current bundle when the new one is broken. */
  reload(): void {
    const file = this.source.file;
    if (!file) return;
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      this.warn(
        `${this.source.option}: cannot re-read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); keeping the previous client CA bundle`,
      );
      return;
    }
    if (pem === this.bytes) {
      this.lastWarning = undefined;
      return;
    }
    try {
      this.roots = parseCertificateBundle(pem);
      this.bytes = pem;
      this.generation++;
      this.lastWarning = undefined;
      this.source.logger.info(
        `${this.source.option}: reloaded ${file} (${this.roots.length} certificate${this.roots.length === 1 ? '' : 's'})`,
      );
    } catch (error) {
      this.warn(
        `${this.source.option}: ${file} is not a valid CA bundle (${(error as Error).message}); keeping the previous client CA bundle`,
      );
    }
  }

  /** Reports a reload problem, unless it is the one reported last (polling meets it again). */
  private warn(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.source.logger.warn(message);
  }

  /** Stops following the file (lets the process exit cleanly in tests). */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.pending) clearTimeout(this.pending);
  }

  /**
   * Watches the file's folder (again). An event naming the folder itself means it was removed or
   * moved, and its watch is dead: it is set up again on the folder now at that path, and the
   * file re-read, since a change may have come in between.
   */
  private startWatching(): void {
    const file = this.source.file;
    if (!file || !this.following || this.closed || this.poll) return;
    this.watcher?.close();
    this.watcher = undefined;
    const folder = dirname(file);
    const name = basename(file);
    try {
      this.watcher = this.following.watchFolder(folder, (changed) => {
        if (changed === basename(folder)) this.later(true);
        // Any change in the folder may be a symlink swap (`..data`); reading is cheap and
        // identical bytes are ignored.
        else if (changed === null || changed === name || changed.startsWith('..'))
          this.later(false);
      });
      this.watcher.on('error', (error) => this.watchFailed(error));
    } catch (error) {
      this.watchFailed(error);
      return;
    }
    this.reload();
  }

  /**
   * Re-reads the file, or watches the folder again (which re-reads it too), shortly: editors and
   * `kubectl cp` write in bursts, and a folder swap comes as several events.
   */
  private later(rewatch: boolean): void {
    if (this.closed) return;
    this.rewatchDue ||= rewatch;
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const again = this.rewatchDue;
      this.rewatchDue = false;
      if (again) this.startWatching();
      else this.reload();
    }, 50);
    this.pending.unref();
  }

  /** Logged once: watching the folder is given up for reading the file at an interval. */
  private watchFailed(error: unknown): void {
    const file = this.source.file;
    if (!file || !this.following || this.closed || this.poll) return;
    this.watcher?.close();
    this.watcher = undefined;
    const { pollIntervalMs } = this.following;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? 'error';
    this.source.logger.warn(
      `${this.source.option}: watching ${file} failed (${reason}); polling it every ${pollIntervalMs} ms instead`,
    );
    // Reading (identical bytes are ignored) rather than comparing file status: nothing written
    // between two reads can be missed. A change may also have come while nothing was watching.
    this.poll = setInterval(() => this.reload(), pollIntervalMs);
    this.poll.unref();
    this.reload();
  }
}
