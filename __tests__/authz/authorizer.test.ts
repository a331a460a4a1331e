import { describe, expect, it } from '@jest/globals';
import { alwaysAllow, alwaysDeny, unionAuthorizer } from '../../lib/authz/authorizer.js';
import type { Attributes, AuthorizationResult, Authorizer } from '../../lib/contracts.js';
import { statsSummary } from '../support/attributes.js';

const record: Attributes = statsSummary({ username: 'alice', groups: ['devs'] });

/** Answers `result` from `authorize` (counting calls) and, when `known`, from `peek` too. */
function fixed(result: AuthorizationResult, known = true): Authorizer & { calls: number } {
  const self: Authorizer & { calls: number } = {
    calls: 0,
    authorize: () => {
      self.calls++;
      return Promise.resolve(result);
    },
  };
  if (known) self.peek = () => result;
  return self;
}

const noOpinion = (reason?: string): AuthorizationResult =>
  reason ? { decision: 'NoOpinion', reason } : { decision: 'NoOpinion' };

describe('unionAuthorizer', () => {
  it('the first Allow or Deny decides; NoOpinion goes on; later ones are not asked', async () => {
    const last = fixed({ decision: 'Allow' });
    const union = unionAuthorizer(fixed(noOpinion('a')), alwaysDeny(), last);
    await expect(union.authorize(record)).resolves.toEqual({ decision: 'Deny' });
    expect(last.calls).toBe(0);
  });

  it('no one deciding is NoOpinion with every reason, and the errors met', async () => {
    const union = unionAuthorizer(
      fixed(noOpinion('first')),
      fixed({ decision: 'NoOpinion', error: new Error('down') }),
      fixed(noOpinion('third')),
    );
    const result = await union.authorize(record);
    expect(result).toMatchObject({ decision: 'NoOpinion', reason: 'first\nthird' });
    expect(result.error?.message).toBe('down');
  });

  it('a rejecting authorizer counts as NoOpinion with its error', async () => {
    const broken: Authorizer = { authorize: () => Promise.reject(new Error('boom')) };
    const result = await unionAuthorizer(broken, alwaysAllow()).authorize(record);
    expect(result).toEqual({ decision: 'Allow' });
  });

  describe('peek', () => {
    it('answers synchronously while each authorizer asked knows its answer', () => {
      const union = unionAuthorizer(fixed(noOpinion('static: no rule')), alwaysAllow());
      expect(union.peek?.(record)).toEqual({ decision: 'Allow' });
    });

    it('stops at the first authorizer that does not know (no answer is skipped)', () => {
      const unknown = fixed({ decision: 'Deny' }, false);
      expect(unionAuthorizer(fixed(noOpinion()), unknown, alwaysAllow()).peek?.(record)).toBe(
        undefined,
      );
      // An Allow before it needs nothing further.
      expect(unionAuthorizer(alwaysAllow(), unknown).peek?.(record)).toEqual({
        decision: 'Allow',
      });
    });

    it('leaves a failure to authorize, and is NoOpinion when all know and none decides', () => {
      const failing = fixed({ decision: 'NoOpinion', error: new Error('down') });
      expect(unionAuthorizer(failing, alwaysAllow()).peek?.(record)).toBeUndefined();
      expect(unionAuthorizer(fixed(noOpinion('x')), fixed(noOpinion('y'))).peek?.(record)).toEqual({
        decision: 'NoOpinion',
        reason: 'x\ny',
      });
    });
  });
});
