/**
 * The installed package's version, read from its package.json at run time: the same answer
 * whether the command runs from the sources, from `dist/` in a clone, from the tarball or from a
 * git dependency, and no build step has to copy the version anywhere.
 */
import { readFileSync } from 'node:fs';

const PACKAGE_NAME = 'express-kubelet-auth';

/**
 * Walks up from `from` (default: this module's folder) to the package.json named
 * `express-kubelet-auth` and returns its `version`. A package.json of another name on the way
 * (a build's `{"type": …}` marker) is passed over.
 *
 * @example packageVersion() // '0.1.0'
 */
export function packageVersion(from: URL = new URL('.', import.meta.url)): string {
  for (let dir = from; ;) {
    const manifest = readManifest(new URL('package.json', dir));
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') {
      return manifest.version;
    }
    const parent = new URL('..', dir);
    if (parent.href === dir.href) throw new Error(`no package.json of ${PACKAGE_NAME} found`);
    dir = parent;
  }
}

function readManifest(file: URL): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined; // none here (or not JSON): keep looking further up
  }
}
