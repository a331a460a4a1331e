import { afterEach, describe, expect, it, jest } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { kubeletAuthz, nonResourceAttributes } from '../lib/index.js';
import { stderrLogger, type Logger } from '../lib/logger.js';

/** What may drive a terminal, forge a line or reorder the display. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

describe('stderrLogger', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('writes one line with the control characters of the message escaped', () => {
    const written: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    stderrLogger.warn('user "eve\x1b]0;owned\x07\u009b2J\u2028forged\u202e" refused\nnext');
    expect(written).toEqual([
      'express-kubelet-auth: user "eve\\u001b]0;owned\\u0007\\u009b2J\\u2028forged\\u202e" refused\\nnext\n',
    ]);
  });
});

describe('the authorization warning, through any logger', () => {
  it('quotes the user and the path with their control characters escaped', async () => {
    const warnings: string[] = [];
    const logger: Logger = { warn: (message) => warnings.push(message) };
    const app = express();
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = { username: 'eve\u009b2J\u2028\u202e', groups: [] };
      next();
    });
    app.use(
      kubeletAuthz({
        authorizer: {
          authorize: () => Promise.resolve({ decision: 'NoOpinion', error: new Error('down') }),
        },
        attributes: nonResourceAttributes(),
        logger,
      }),
    );
    const res = await request(app).get('/api/%C2%9B2J%E2%80%A8x');
    expect(res.status).toBe(500);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toMatch(UNSAFE);
    expect(warnings[0]).toContain('user "eve\\u009b2J\\u2028\\u202e" on /api/\\u009b2J\\u2028x');
  });
});
