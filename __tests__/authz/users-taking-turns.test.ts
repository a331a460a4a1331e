import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import express from 'express';
import request from 'supertest';
import { kubeletAuthz } from '../../lib/authz/middleware.js';
import { cachedAuthorizer } from '../../lib/cache/decision-cache.js';
import type { Authorizer } from '../../lib/contracts.js';
import { silentLogger } from '../../lib/logger.js';
import { freezeUser, type KubeUser } from '../../lib/user.js';

const alice = freezeUser({ username: 'alice', groups: ['system:authenticated'] });
const bob = freezeUser({ username: 'bob', groups: ['system:authenticated'] });

describe('kubeletAuthz with the decision cache', () => {
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
