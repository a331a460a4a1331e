import { describe, expect, it } from '@jest/globals';
import type * as rejection from '../../lib/authn/rejection.js';
import { credentialsRejection, markCredentialsRejected } from '../../lib/authn/rejection.js';

/**
 * One process can hold two copies of the package (its ESM build imported, its CommonJS build
 * required). A refusal marked by one copy's strategy must still keep the other copy's anonymous
 * strategy from making the request anonymous, or mixing the two would fail open.
 */
describe('refused credentials', () => {
  it('are seen by every copy of the module in the process', async () => {
    // A query makes Jest load a second, separate instance of the module, as a second build would be.
    const specifier = '../../lib/authn/rejection.ts?second-copy';
    const copy = (await import(specifier)) as typeof rejection;
    expect(copy.credentialsRejection).not.toBe(credentialsRejection);

    const req = {};
    expect(copy.credentialsRejection(req)).toBeUndefined();
    markCredentialsRejected(req, 'token refused');
    expect(copy.credentialsRejection(req)).toBe('token refused');

    const other = {};
    copy.markCredentialsRejected(other, 'certificate refused');
    expect(credentialsRejection(other)).toBe('certificate refused');
  });
});
