import type * as Package from '../../lib/index.js';

/**
 * The package as users run it: the build in `dist/` (`npm run bench` builds first), not the
 * sources through tsx. Typed as the sources it is built from.
 */
export const builtPackage = (await import(
  new URL('../../dist/index.js', import.meta.url).href
)) as typeof Package;
