/**
 * Which router options the plugin takes to be on, read from a Fastify instance's
 * `initialConfig`, against what the instance's router really does: whatever way the options were
 * given (top level, `routerOptions`, both, disagreeing), an option the router applies is never
 * taken to be off.
 */
import { describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { fastifyRouting, type FastifyRouting } from '../../lib/fastify/route-check.js';

/** What the router does, found by sending it targets each option would change. */
async function observed(options: FastifyServerOptions): Promise<FastifyRouting> {
  const app = Fastify(options);
  app.get('/a/b', async () => 'a/b');
  app.get('/*', async () => 'other');
  const served = async (url: string) => (await app.inject(url)).body;
  try {
    return {
      caseSensitive: (await served('/A/b')) !== 'a/b',
      ignoreDuplicateSlashes: (await served('//a/b')) === 'a/b',
      useSemicolonDelimiter: (await served('/a/b;x')) === 'a/b',
    };
  } finally {
    await app.close();
  }
}

const on = {
  caseSensitive: false,
  ignoreDuplicateSlashes: true,
  useSemicolonDelimiter: true,
} as const;
const off = {
  caseSensitive: true,
  ignoreDuplicateSlashes: false,
  useSemicolonDelimiter: false,
} as const;
const routerOptions = (o: object) => o as FastifyServerOptions['routerOptions'];

describe('fastifyRouting reads the router options in force from initialConfig', () => {
  it.each<[string, FastifyServerOptions]>([
    ['none', {}],
    ['at the top level', { ...on }],
    ['in routerOptions', { routerOptions: routerOptions(on) }],
    ['at the top level, routerOptions empty', { ...on, routerOptions: {} }],
    ['on at the top level, off in routerOptions', { ...on, routerOptions: routerOptions(off) }],
    ['off at the top level, on in routerOptions', { ...off, routerOptions: routerOptions(on) }],
  ])('%s: every option the router applies is read as on', async (_name, options) => {
    const router = await observed(options);
    const app = Fastify(options);
    const read = fastifyRouting(app.initialConfig);
    await app.close();
    for (const key of ['ignoreDuplicateSlashes', 'useSemicolonDelimiter'] as const) {
      if (router[key]) expect([key, read[key]]).toEqual([key, true]);
    }
    if (!router.caseSensitive) expect(read.caseSensitive).toBe(false);
  });

  it('the defaults are read as the router applies them: nothing loosened', async () => {
    expect(await observed({})).toEqual(off);
    const app = Fastify();
    expect(fastifyRouting(app.initialConfig)).toEqual(off);
    await app.close();
  });
});
