import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import express from 'express';
import request from 'supertest';
import { kubeletRequestAttributes } from '../../lib/authz/attributes.js';
import { rememberLastQuestion } from '../../lib/authz/last-question.js';
import { kubeletAuthz } from '../../lib/authz/middleware.js';
import { cachedAuthorizer } from '../../lib/cache/decision-cache.js';
import type { Attributes, Authorizer } from '../../lib/contracts.js';
import { silentLogger } from '../../lib/logger.js';
import { freezeUser, type KubeUser } from '../../lib/user.js';

const alice = freezeUser({ username: 'alice', groups: ['system:authenticated'] });
const bob = freezeUser({ username: 'bob', groups: ['system:authenticated'] });

/** The kubelet's derivation, remembered, counting how often the records are really made. */
function counted(): { derive: ReturnType<typeof rememberLastQuestion>; made: () => number } {
  let made = 0;
  const derive = rememberLastQuestion((user, method, path) => {
    made++;
    return kubeletRequestAttributes(user, method, path, { nodeName: 'node-a' });
  });
  return { derive, made: () => made };
}

const req = (method: string) => ({ method }) as IncomingMessage;

describe('rememberLastQuestion', () => {
  it('hands out the same frozen records while one user asks one thing again', () => {
    const { derive, made } = counted();
    const first = derive(req('GET'), alice, '/pods') as Attributes[];
    const again = derive(req('GET'), alice, '/pods') as Attributes[];
    expect(again).toBe(first);
    expect(made()).toBe(1);
    expect(first.map((a) => a.subresource)).toEqual(['pods', 'proxy']);
    expect(Object.isFrozen(first)).toBe(true);
    for (const record of first) expect(Object.isFrozen(record)).toBe(true);
  });

  it('makes new records for another user, method or path, and keeps only the last question', () => {
    const { derive, made } = counted();
    const aliceStats = derive(req('GET'), alice, '/stats/summary') as Attributes[];
    const bobStats = derive(req('GET'), bob, '/stats/summary') as Attributes[];
    expect(bobStats[0]?.user).toBe(bob);
    expect(aliceStats[0]?.user).toBe(alice);
    const post = derive(req('POST'), bob, '/stats/summary') as Attributes[];
    expect(post[0]?.verb).toBe('create');
    const metrics = derive(req('POST'), bob, '/metrics') as Attributes[];
    expect(metrics[0]?.subresource).toBe('metrics');
    // Alice's question was replaced by Bob's: asked again, it is made again, with her user.
    const aliceAgain = derive(req('GET'), alice, '/stats/summary') as Attributes[];
    expect(aliceAgain).not.toBe(aliceStats);
    expect(aliceAgain).toEqual(aliceStats);
    expect(made()).toBe(5);
  });

  it('a user object equal to the last one but not the same is not taken for it', () => {
    const { derive, made } = counted();
    derive(req('GET'), alice, '/pods');
    const twin: KubeUser = freezeUser({ username: 'alice', groups: ['system:authenticated'] });
    expect((derive(req('GET'), twin, '/pods') as Attributes[])[0]?.user).toBe(twin);
    expect(made()).toBe(2);
  });
});

describe('kubeletAuthz with remembered questions and the decision cache', () => {
  it('users taking turns on one path each get their own decision, asked once per user', async () => {
    const asked: string[] = [];
    const inner: Authorizer = {
      authorize(a) {
        asked.push(`${a.user.username} ${a.verb} ${a.resource}/${a.subresource}`);
        return Promise.resolve({ decision: a.user.username === 'alice' ? 'Allow' : 'Deny' });
      },
    };
    const authorizer = cachedAuthorizer(inner, {
      authorizedTtlMs: 300_000,
      unauthorizedTtlMs: 30_000,
    });
    const app = express();
    app.use((r, _res, next) => {
      (r as IncomingMessage & { user?: KubeUser }).user =
        r.headers['x-user'] === 'alice' ? alice : bob;
      next();
    });
    app.use(kubeletAuthz({ nodeName: 'node-a', authorizer, logger: silentLogger }));
    app.get('/stats/summary', (_r, res) => {
      res.send('stats');
    });

    const statuses: number[] = [];
    for (const user of ['alice', 'bob', 'alice', 'alice', 'bob', 'bob']) {
      const res = await request(app).get('/stats/summary').set('x-user', user);
      statuses.push(res.status);
      if (user === 'bob') {
        expect(res.text).toBe(
          'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n',
        );
      }
    }
    expect(statuses).toEqual([200, 403, 200, 200, 403, 403]);
    expect(asked).toEqual(['alice get nodes/stats', 'bob get nodes/stats']);
  });
});
