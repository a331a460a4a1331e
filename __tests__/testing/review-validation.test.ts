/**
 * Review bodies are checked as kube-apiserver checks them: a field of the wrong JSON type fails
 * decoding (400), an invalid combination fails validation (422 with the Status kube-apiserver
 * sends), and evaluate() refuses what HTTP refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { evaluate, startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer, SubjectAccessReviewSpec } from '../../lib/testing/index.js';
import { post, SARS, sarBody, TOKEN_REVIEWS } from './stand-in-http.js';

const GRANT_DEVS = {
  rules: [{ groups: ['devs'], verbs: ['*'], resources: ['*'], apiGroups: ['*'] }],
};

let server: StandInApiServer;
beforeAll(async () => {
  server = await startApiServer({ policy: GRANT_DEVS, tokens: { t: { username: 'u' } } });
});
afterAll(() => server.close());

const badRequest = (message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason: 'BadRequest',
  code: 400,
});

const sarDecode = (detail: string) =>
  `SubjectAccessReview in version "v1" cannot be handled as a SubjectAccessReview: json: ${detail}`;

describe('fields of the wrong JSON type', () => {
  it.each([
    [
      'groups as a string (never a substring match)',
      { user: 'x', groups: 'xdevsx', resourceAttributes: { verb: 'get', resource: 'pods' } },
      'cannot unmarshal string into Go struct field SubjectAccessReviewSpec.spec.groups of type []string',
    ],
    [
      'a group that is a number',
      { groups: ['devs', 7], resourceAttributes: { verb: 'get', resource: 'pods' } },
      'cannot unmarshal number into Go struct field SubjectAccessReviewSpec.spec.groups of type string',
    ],
    [
      'a numeric path',
      { groups: ['devs'], nonResourceAttributes: { verb: 'get', path: 42 } },
      'cannot unmarshal number into Go struct field NonResourceAttributes.spec.nonResourceAttributes.path of type string',
    ],
    [
      'a list verb',
      { groups: ['devs'], resourceAttributes: { verb: ['get'], resource: 'pods' } },
      'cannot unmarshal array into Go struct field ResourceAttributes.spec.resourceAttributes.verb of type string',
    ],
    [
      'a list namespace',
      { groups: ['devs'], resourceAttributes: { verb: 'get', resource: 'pods', namespace: ['a'] } },
      'cannot unmarshal array into Go struct field ResourceAttributes.spec.resourceAttributes.namespace of type string',
    ],
    [
      'a boolean user',
      { user: true, resourceAttributes: { verb: 'get', resource: 'pods' } },
      'cannot unmarshal bool into Go struct field SubjectAccessReviewSpec.spec.user of type string',
    ],
    [
      'attributes that are not an object',
      { groups: ['devs'], resourceAttributes: 'pods' },
      'cannot unmarshal string into Go struct field SubjectAccessReviewSpec.spec.resourceAttributes of type v1.ResourceAttributes',
    ],
    [
      'extra values that are not lists',
      { groups: ['devs'], extra: { scopes: 'a' }, resourceAttributes: { verb: 'get' } },
      'cannot unmarshal string into Go struct field SubjectAccessReviewSpec.spec.extra.scopes of type v1.ExtraValue',
    ],
  ])('SubjectAccessReview with %s: 400, not reviewed', async (_name, spec, detail) => {
    server.resetReviews();
    const answer = await post(server, SARS, sarBody(spec));
    expect(answer).toEqual({ status: 400, body: badRequest(sarDecode(detail)) });
    expect(server.reviews.subjectAccessReviews).toHaveLength(0);
    expect(() => evaluate(GRANT_DEVS, spec as SubjectAccessReviewSpec)).toThrow(
      new TypeError(sarDecode(detail)),
    );
  });

  it('a spec that is not an object: 400', async () => {
    const answer = await post(server, SARS, { ...sarBody({}), spec: 'x' });
    expect(answer).toEqual({
      status: 400,
      body: badRequest(
        sarDecode(
          'cannot unmarshal string into Go struct field SubjectAccessReview.spec of type v1.SubjectAccessReviewSpec',
        ),
      ),
    });
  });

  it.each([
    ['a numeric token', { token: 5 }, 'TokenReviewSpec.spec.token of type string', 'number'],
    [
      'audiences as a string',
      { token: 't', audiences: 'a' },
      'TokenReviewSpec.spec.audiences of type []string',
      'string',
    ],
    [
      'a numeric audience',
      { token: 't', audiences: [1] },
      'TokenReviewSpec.spec.audiences of type string',
      'number',
    ],
  ])('TokenReview with %s: 400', async (_name, spec, field, kind) => {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
    const answer = await post(server, TOKEN_REVIEWS, body);
    expect(answer).toEqual({
      status: 400,
      body: badRequest(
        `TokenReview in version "v1" cannot be handled as a TokenReview: json: cannot unmarshal ${kind} into Go struct field ${field}`,
      ),
    });
  });

  it('a TokenReview without a spec is a 400 for the missing token', async () => {
    const answer = await post(server, TOKEN_REVIEWS, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
    });
    expect(answer).toEqual({
      status: 400,
      body: badRequest('token is required for TokenReview in authentication'),
    });
  });

  it('null fields decode as absent, as in Go', async () => {
    const answer = await post(
      server,
      SARS,
      sarBody({ groups: ['devs'], user: null, resourceAttributes: { verb: 'get', name: null } }),
    );
    expect(answer.status).toBe(201);
    expect(answer.body['status']).toMatchObject({ allowed: true });
  });
});

describe('invalid combinations: 422 with kube-apiserver Status', () => {
  const invalid = (causes: { field: string; message: string }[]) => {
    const errors = causes.map((c) => `${c.field}: ${c.message}`);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `SubjectAccessReview.authorization.k8s.io "" is invalid: ${
        errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`
      }`,
      reason: 'Invalid',
      details: {
        group: 'authorization.k8s.io',
        kind: 'SubjectAccessReview',
        causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })),
      },
      code: 422,
    };
  };
  const NEITHER = {
    field: 'spec.resourceAttributes',
    message:
      'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
  };
  const NO_USER = {
    field: 'spec.user',
    message: 'Invalid value: "": at least one of user or group must be specified',
  };

  it.each([
    ['neither kind of attributes', { groups: ['devs'] }, [NEITHER]],
    ['neither, and no user', {}, [NEITHER, NO_USER]],
    ['no user or group', { resourceAttributes: { verb: 'get' } }, [NO_USER]],
    ['an empty group list', { groups: [], nonResourceAttributes: { path: '/x' } }, [NO_USER]],
    [
      'both kinds of attributes',
      { user: 'a', resourceAttributes: {}, nonResourceAttributes: { path: '/x', verb: 'get' } },
      [
        {
          field: 'spec.nonResourceAttributes',
          message:
            'Invalid value: {"path":"/x","verb":"get"}: cannot be specified in combination with resourceAttributes',
        },
      ],
    ],
  ])('%s', async (_name, spec, causes) => {
    const answer = await post(server, SARS, sarBody(spec));
    expect(answer).toEqual({ status: 422, body: invalid(causes) });
    // evaluate() refuses it the same way, even where a '*' URL rule would match.
    const everything = {
      rules: [{ groups: ['devs'], users: ['a'], verbs: ['*'], nonResourceURLs: ['*'] }],
    };
    expect(() => evaluate(everything, spec)).toThrow(new TypeError(invalid(causes).message));
  });

  it('metadata must be empty', async () => {
    const body = {
      ...sarBody({ groups: ['devs'], resourceAttributes: {} }),
      metadata: { name: 'x' },
    };
    const answer = await post(server, SARS, body);
    expect(answer.status).toBe(422);
    expect(answer.body['message']).toBe(
      'SubjectAccessReview.authorization.k8s.io "" is invalid: metadata: Invalid value: {"name":"x"}: must be empty',
    );
    const emptyish = { ...body, metadata: { creationTimestamp: null, labels: {} } };
    expect((await post(server, SARS, emptyish)).status).toBe(201);
  });
});
