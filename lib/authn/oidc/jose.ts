import type * as JoseModule from 'jose';
import { KubeletAuthError } from '../../errors.js';

/** The `jose` module. */
export type Jose = typeof JoseModule;

let loading: Promise<Jose> | undefined;

/**
 * jose, loaded on first need and shared: it is ESM-only, and the package's CommonJS build must
 * load where no ES module can (CommonJS Jest), as long as OIDC is not used there. `import()`
 * works wherever ES modules do; the CommonJS build turns it into `require(esm)`, which
 * Node.js 20.19+ supports. Rejects with `ERR_UNSUPPORTED_RUNTIME` where neither works.
 */
export function importJose(): Promise<Jose> {
  loading ??= import('jose').catch((error: unknown) => {
    loading = undefined;
    throw new KubeletAuthError(
      'ERR_UNSUPPORTED_RUNTIME',
      'jose, which checks OIDC tokens, is ESM-only and cannot be loaded in this environment (CommonJS Jest without --experimental-vm-modules): run Jest with native ESM (`node --experimental-vm-modules node_modules/jest/bin/jest.js`)',
      { cause: error },
    );
  });
  return loading;
}
