import type * as Package from '../../lib/index.js';

import { pathToFileURL } from 'node:url';

/**
 * The package as users run it: the build in `dist/` (`npm run bench` builds first), not the
 * sources through tsx; or the build in BENCH_BUILD, for a before/after A/B. Typed as the sources
 * it is built from.
 */
const build = process.env['BENCH_BUILD'];
export const builtPackage = (await import(
  build
    ? pathToFileURL(`${build}/index.js`).href
    : new URL('../../dist/index.js', import.meta.url).href
)) as typeof Package;
