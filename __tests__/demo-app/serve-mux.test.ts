/**
 * Go's ServeMux in front of the mock kubelet: what it answers itself (404 for a path no pattern
 * covers, 301 to a cleaned or slash-completed path) never reaches authentication; everything else
 * goes on unchanged.
 */
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { cleanPath, kubeletMux, kubeletPatterns, serveMux } from '../../demo-app/serve-mux.js';

function appWith(gates = { ContainerCheckpoint: true }) {
  const app = express();
  app.use(serveMux(kubeletMux(kubeletPatterns(gates))));
  // Stands for kubeletAuth and the endpoints: whatever reaches it says so.
  app.use((req, res) => res.send(`passed ${req.originalUrl}`));
  return app;
}

const app = appWith();

describe('paths the kubelet registers go on to authentication', () => {
  it.each([
    '/stats/',
    '/stats/summary',
    '/%73tats/summary',
    '/pods',
    '/pods/',
    '/runningpods/',
    '/metrics',
    '/metrics/cadvisor',
    '/metrics/slis',
    '/healthz',
    '/healthz/ping',
    '/configz',
    '/logs/',
    '/logs/kubelet.log',
    '/exec/ns/pod/container?command=date',
    '/containerLogs/ns/pod/container',
    '/checkpoint/ns/pod/container',
    '/spec',
    // Encoded dot segments are not cleaned: kubeletAuth refuses them.
    '/stats/%2e%2e/exec/a/b/c',
  ])('%s', async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(200);
    expect(res.text).toBe(`passed ${path}`);
  });
});

describe('a path no pattern covers: Go’s 404, before authentication', () => {
  it.each([
    '/',
    '/foo',
    '/statsfoo',
    '/Stats/summary',
    '/stats%2Fsummary',
    '/metrics/',
    '/metrics/nope',
    '/metrics/cadvisor/',
    '/healthz/',
    '/healthz/nope',
    '/configz/x',
  ])('%s', async (path) => {
    const res = await request(app).post(path);
    expect(res.status).toBe(404);
    expect(res.text).toBe('404 page not found\n');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('/checkpoint/… while the ContainerCheckpoint gate is off', async () => {
    const res = await request(appWith({ ContainerCheckpoint: false })).post('/checkpoint/a/b/c');
    expect(res.status).toBe(404);
  });
});

describe('301, as Go’s http.Redirect answers, before authentication', () => {
  it.each([
    ['/stats', '/stats/'],
    ['/stats?only_cpu_and_memory=true', '/stats/?only_cpu_and_memory=true'],
    ['/runningpods', '/runningpods/'],
    ['/debug/pprof', '/debug/pprof/'],
    ['//pods', '/pods'],
    ['/stats/./summary', '/stats/summary'],
    ['/a/../stats/summary', '/stats/summary'],
    ['/stats//summary/', '/stats/summary/'],
    ['/foo/../../healthz?verbose', '/healthz?verbose'],
  ])('GET %s → %s', async (path, location) => {
    const res = await request(app).get(path).redirects(0);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(location);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe(`<a href="${location}">Moved Permanently</a>.\n\n`);
  });

  it('HEAD: the content type, no body; POST: neither', async () => {
    const head = await request(app).head('/stats').redirects(0);
    expect([head.status, head.headers.location]).toEqual([301, '/stats/']);
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
    const post = await request(app).post('/stats').redirects(0);
    expect([post.status, post.headers.location, post.text]).toEqual([301, '/stats/', '']);
    expect(post.headers['content-type']).toBeUndefined();
  });

  it('an unclean path no pattern covers is cleaned first, then a 404', async () => {
    const res = await request(app).get('/foo//bar').redirects(0);
    expect([res.status, res.headers.location]).toEqual([301, '/foo/bar']);
  });
});

describe('cleanPath (Go’s)', () => {
  it.each([
    ['/', '/'],
    ['//', '/'],
    ['/a/./b', '/a/b'],
    ['/a/b/..', '/a'],
    ['/a/b/../', '/a/'],
    ['/../a', '/a'],
    ['/a/.', '/a'],
    ['/a//b//', '/a/b/'],
  ])('%s → %s', (path, cleaned) => {
    expect(cleanPath(path)).toBe(cleaned);
  });
});

describe('the decision itself, for targets an HTTP client would not send as they are', () => {
  const mux = kubeletMux(kubeletPatterns({ ContainerCheckpoint: true }));

  it.each([
    // Go escapes the cleaned path again: never a Location a browser reads as another host.
    ['//\\evil.example/', '/%255Cevil.example/'],
    ['/.//\\evil.example', '/%255Cevil.example'],
    ['//pods/a%20b', '/pods/a%2520b'],
    // The slash is added to the decoded path, escaped anew.
    ['/stat%73', '/stats/'],
    ['http://node-a', '/'],
    ['http://node-a?x=1', '/?x=1'],
  ])('%s → 301 to %s', (target, location) => {
    expect(mux('GET', target)).toMatchObject({ status: 301, headers: { Location: location } });
  });

  it('escapes Go accepts that are not UTF-8: matched as bytes, a 404 where nothing covers them', () => {
    expect(mux('GET', '/foo/%FF')).toEqual(expect.objectContaining({ status: 404 }));
    expect(mux('GET', '/logs/%FF%FE')).toBeUndefined();
  });

  it('reads the path as Go does: a `#` is part of it, a `\\` stays in an absolute-form path', () => {
    expect(mux('GET', '/pods#x')).toMatchObject({ status: 404 });
    expect(mux('GET', '/debug/pprof#x')).toMatchObject({ status: 404 });
    expect(mux('GET', '/stats/#a?b')).toBeUndefined();
    expect(mux('GET', 'http://node-a/\\evil.example')).toMatchObject({ status: 404 });
    expect(mux('GET', 'http://u:p@node-a//pods?x')).toMatchObject({
      status: 301,
      headers: { Location: '/pods?x' },
    });
  });

  it('a character that is no byte goes on (Node’s parser never hands one over)', () => {
    expect(mux('GET', '/pod\u0173')).toBeUndefined();
  });

  it('a malformed escape goes on, for kubeletAuth to refuse', () => {
    expect(mux('GET', '/stats/%zz')).toBeUndefined();
    expect(mux('GET', '/foo/%4')).toBeUndefined();
  });

  it('OPTIONS *: Go’s 200 with no body; any other * target: 400, and the connection closes', () => {
    expect(mux('OPTIONS', '*')).toEqual({
      status: 200,
      headers: { 'Content-Length': '0' },
      body: '',
    });
    expect(mux('GET', '*')).toEqual({ status: 400, headers: { Connection: 'close' }, body: '' });
  });
});
