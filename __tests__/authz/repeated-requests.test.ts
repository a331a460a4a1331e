import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import express from 'express';
import request from 'supertest';
import { kubeletRequestAttributes } from '../../lib/authz/attributes.js';
import { kubeletAttributes } from '../../lib/authz/kubelet-attributes.js';
import { kubeletAuthz } from '../../lib/authz/middleware.js';
import { cachedAuthorizer } from '../../lib/cache/decision-cache.js';
import type { Attributes, Authorizer, KubeUser } from '../../lib/contracts.js';
import { silentLogger } from '../../lib/logger.js';
import { freezeUser, isDeeplyFrozen } from '../../lib/user.js';

// A client repeating its request gets the records derived for it the first time, and the decision
// cache keeps their key; nothing of that may serve a request that differs in any way.

const alice = freezeUser({ username: 'alice', groups: ['system:authenticated'] });
const bob = freezeUser({ username: 'bob', groups: ['system:authenticated'] });

function req(method: string, url: string): IncomingMessage {
  return { method, url } as IncomingMessage;
}

describe('the kubelet attributes of a repeated request', () => {
  const derive = kubeletAttributes({ nodeName: 'node-a', fineGrained: true });

  it('are the same frozen records while user, method and target stay the same', () => {
    const first = derive(req('GET', '/stats/summary'), alice, '/stats/summary');
    const again = derive(req('GET', '/stats/summary'), alice, '/stats/summary');
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect((first as Attributes[]).every((r) => Object.isFrozen(r))).toBe(true);
    expect(() => {
      (first as Attributes[])[0]!.verb = 'create';
    }).toThrow(TypeError);
  });

  it('are derived afresh for another method, target or user', () => {
    derive(req('GET', '/stats/summary'), alice, '/stats/summary');
    const post = derive(req('POST', '/stats/summary'), alice, '/stats/summary') as Attributes[];
    expect(post.map((r) => r.verb)).toEqual(['create']);
    const other = derive(req('GET', '/pods'), alice, '/pods') as Attributes[];
    expect(other.map((r) => r.subresource)).toEqual(['pods', 'proxy']);
    const forBob = derive(req('GET', '/pods'), bob, '/pods') as Attributes[];
    expect(forBob.map((r) => r.user.username)).toEqual(['bob', 'bob']);
  });

  it('are derived afresh for the same target read as another path, and per node', () => {
    derive(req('GET', '/stats/summary'), alice, '/stats/summary');
    const other = derive(req('GET', '/stats/summary'), alice, '/pods') as Attributes[];
    expect(other.map((r) => r.subresource)).toEqual(['pods', 'proxy']);
    const nodeB = kubeletAttributes({ nodeName: 'node-b', fineGrained: true });
    const onB = nodeB(req('GET', '/stats/summary'), alice, '/stats/summary') as Attributes[];
    expect(onB.map((r) => r.name)).toEqual(['node-b']);
    const onA = derive(req('GET', '/stats/summary'), alice, '/stats/summary') as Attributes[];
    expect(onA.map((r) => r.name)).toEqual(['node-a']);
  });

  it('still refuse a target that decodes to the path just allowed but routes elsewhere', () => {
    derive(req('GET', '/stats/summary'), alice, '/stats/summary');
    // Decoded, both are /stats/summary; as sent, no /stats route matches the second.
    expect(derive(req('GET', '/%73tats/summary'), alice, '/stats/summary')).toEqual({
      refused: expect.stringContaining('router') as unknown,
    });
  });
});

describe('kubeletAuthz, a client repeating its request', () => {
  function app(asked: string[]) {
    const inner: Authorizer = {
      authorize(a) {
        asked.push(`${a.user.username} ${a.verb} ${a.subresource}`);
        return Promise.resolve({ decision: a.verb === 'get' ? 'Allow' : 'Deny' });
      },
    };
    const authorizer = cachedAuthorizer(inner, {
      authorizedTtlMs: 300_000,
      unauthorizedTtlMs: 30_000,
    });
    const server = express();
    server.use((r, _res, next) => {
      (r as IncomingMessage & { user?: KubeUser }).user =
        r.headers['x-user'] === 'bob' ? bob : alice;
      next();
    });
    server.use(kubeletAuthz({ nodeName: 'node-a', authorizer, logger: silentLogger }));
    server.all('/stats/summary', (_r, res) => {
      res.send('stats');
    });
    server.use((_r, res) => {
      res.status(404).send('catch-all');
    });
    return server;
  }

  it('is asked about once, and a change of method, target or user is decided on its own', async () => {
    const asked: string[] = [];
    const server = app(asked);
    for (let i = 0; i < 3; i++) {
      expect((await request(server).get('/stats/summary')).status).toBe(200);
    }
    expect((await request(server).post('/stats/summary')).status).toBe(403);
    expect((await request(server).get('/%73tats/summary')).status).toBe(400);
    expect((await request(server).get('/Stats/summary')).status).toBe(400);
    expect((await request(server).get('/stats/summary').set('x-user', 'bob')).status).toBe(200);
    expect((await request(server).get('/stats/summary')).status).toBe(200);
    expect(asked).toEqual(['alice get stats', 'alice create stats', 'bob get stats']);
  });
});

describe('the decision cache key of a record', () => {
  it('is made afresh for a record that is not frozen, so a changed record is asked anew', async () => {
    const asked: string[] = [];
    const authorizer = cachedAuthorizer(
      {
        authorize(a) {
          asked.push(a.user.username);
          return Promise.resolve({ decision: a.user.username === 'alice' ? 'Allow' : 'Deny' });
        },
      },
      { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 },
    );
    // As the kubelet derives it, but not frozen (only `kubeletAttributes` freezes its records).
    const [record] = kubeletRequestAttributes(
      { username: 'alice', groups: [] },
      'GET',
      '/stats/summary',
      { nodeName: 'node-a' },
    ) as [Attributes];
    expect((await authorizer.authorize(record)).decision).toBe('Allow');
    expect(authorizer.peek?.(record)?.decision).toBe('Allow');
    record.user = { username: 'bob', groups: [] };
    expect(authorizer.peek?.(record)).toBeUndefined();
    expect((await authorizer.authorize(record)).decision).toBe('Deny');
    record.user.groups.push('system:masters');
    expect(authorizer.peek?.(record)).toBeUndefined();
    expect(asked).toEqual(['alice', 'bob']);
  });

  it('is made afresh for a frozen user that is not plain data (a getter may change)', async () => {
    let name = 'alice';
    class Changing {
      get username(): string {
        return name;
      }
      groups = Object.freeze([] as string[]) as string[];
    }
    const user = Object.freeze(new Changing());
    expect(isDeeplyFrozen(user)).toBe(false);
    const authorizer = cachedAuthorizer(
      {
        authorize: (a) =>
          Promise.resolve({ decision: a.user.username === 'alice' ? 'Allow' : 'Deny' }),
      },
      { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 },
    );
    const [record] = kubeletAttributes({ nodeName: 'node-a', fineGrained: true })(
      req('GET', '/stats/summary'),
      user,
      '/stats/summary',
    ) as [Attributes];
    expect((await authorizer.authorize(record)).decision).toBe('Allow');
    name = 'bob';
    expect(authorizer.peek?.(record)).toBeUndefined();
    expect((await authorizer.authorize(record)).decision).toBe('Deny');
  });
});
