/**
 * What kube-apiserver checks in a TokenReview or SubjectAccessReview body before it answers:
 * first that every field has the JSON type of its Go field (a mismatch fails decoding: 400
 * BadRequest), then the rules of the authorization API's validation (a failure: 422 Invalid).
 * Unknown fields pass, as they do through kube-apiserver's non-strict decoding.
 */

/** A field type of the review APIs, in the terms Go's JSON decoder reports. */
type FieldType =
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'list'; goType: string; item: FieldType }
  | { kind: 'map'; goType: string; value: FieldType }
  | { kind: 'struct'; goType: string; fields: Record<string, FieldType> };

const STRING: FieldType = { kind: 'string' };
const BOOL: FieldType = { kind: 'bool' };
const STRINGS: FieldType = { kind: 'list', goType: '[]string', item: STRING };
const ANY_OBJECT = (goType: string): FieldType => ({ kind: 'struct', goType, fields: {} });

const SELECTOR_REQUIREMENT = (goType: string): FieldType => ({
  kind: 'struct',
  goType,
  fields: { key: STRING, operator: STRING, values: STRINGS },
});

const RESOURCE_ATTRIBUTES: FieldType = {
  kind: 'struct',
  goType: 'v1.ResourceAttributes',
  fields: {
    namespace: STRING,
    verb: STRING,
    group: STRING,
    version: STRING,
    resource: STRING,
    subresource: STRING,
    name: STRING,
    fieldSelector: {
      kind: 'struct',
      goType: 'v1.FieldSelectorAttributes',
      fields: {
        rawSelector: STRING,
        requirements: {
          kind: 'list',
          goType: '[]v1.FieldSelectorRequirement',
          item: SELECTOR_REQUIREMENT('v1.FieldSelectorRequirement'),
        },
      },
    },
    labelSelector: {
      kind: 'struct',
      goType: 'v1.LabelSelectorAttributes',
      fields: {
        rawSelector: STRING,
        requirements: {
          kind: 'list',
          goType: '[]v1.LabelSelectorRequirement',
          item: SELECTOR_REQUIREMENT('v1.LabelSelectorRequirement'),
        },
      },
    },
  },
};

const EXTRA: FieldType = {
  kind: 'map',
  goType: 'map[string]v1.ExtraValue',
  value: { kind: 'list', goType: 'v1.ExtraValue', item: STRING },
};

/** A review object: the API object's envelope around the spec it asks and the status it gets. */
const REVIEW = (
  kind: string,
  spec: Record<string, FieldType>,
  status: Record<string, FieldType>,
): FieldType => ({
  kind: 'struct',
  goType: `v1.${kind}`,
  fields: {
    apiVersion: STRING,
    kind: STRING,
    metadata: ANY_OBJECT('v1.ObjectMeta'),
    spec: { kind: 'struct', goType: `v1.${kind}Spec`, fields: spec },
    status: { kind: 'struct', goType: `v1.${kind}Status`, fields: status },
  },
});

const SUBJECT_ACCESS_REVIEW = REVIEW(
  'SubjectAccessReview',
  {
    resourceAttributes: RESOURCE_ATTRIBUTES,
    nonResourceAttributes: {
      kind: 'struct',
      goType: 'v1.NonResourceAttributes',
      fields: { path: STRING, verb: STRING },
    },
    user: STRING,
    groups: STRINGS,
    extra: EXTRA,
    uid: STRING,
  },
  { allowed: BOOL, denied: BOOL, reason: STRING, evaluationError: STRING },
);

const TOKEN_REVIEW = REVIEW(
  'TokenReview',
  { token: STRING, audiences: STRINGS },
  {
    authenticated: BOOL,
    user: {
      kind: 'struct',
      goType: 'v1.UserInfo',
      fields: { username: STRING, uid: STRING, groups: STRINGS, extra: EXTRA },
    },
    audiences: STRINGS,
    error: STRING,
  },
);

/**
 * Returns the decoding error kube-apiserver reports for a review body whose fields have the
 * wrong JSON types (`groups` as a string, a numeric `path`…), or undefined when they all fit.
 */
export function reviewDecodeError(
  kind: 'TokenReview' | 'SubjectAccessReview',
  body: Record<string, unknown>,
): string | undefined {
  const schema = kind === 'TokenReview' ? TOKEN_REVIEW : SUBJECT_ACCESS_REVIEW;
  const problem = typeMismatch(body, schema, kind, '');
  return problem && `${kind} in version "v1" cannot be handled as a ${kind}: ${problem}`;
}

// Walks `value` along `type`; returns Go's message for the first mismatch. `struct` names the
// innermost Go struct and `path` the JSON path from the top, as encoding/json words it.
function typeMismatch(value: unknown, type: FieldType, struct: string, path: string): string {
  // null decodes to the zero value of any Go type.
  if (value === null || value === undefined) return '';
  const fail = (goType: string): string =>
    path === ''
      ? `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`
      : `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${struct}.${path} of type ${goType}`;
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? '' : fail('string');
    case 'bool':
      return typeof value === 'boolean' ? '' : fail('bool');
    case 'list':
      if (!Array.isArray(value)) return fail(type.goType);
      for (const item of value) {
        const problem = typeMismatch(item, type.item, struct, path);
        if (problem) return problem;
      }
      return '';
    case 'map':
      if (!isPlainObject(value)) return fail(type.goType);
      for (const [key, item] of Object.entries(value)) {
        const problem = typeMismatch(item, type.value, struct, `${path}.${key}`);
        if (problem) return problem;
      }
      return '';
    case 'struct': {
      if (!isPlainObject(value)) return fail(type.goType);
      const name = type.goType.replace(/^v1\./, '');
      for (const [key, fieldType] of Object.entries(type.fields)) {
        if (!Object.hasOwn(value, key)) continue;
        const child = path === '' ? key : `${path}.${key}`;
        const problem = typeMismatch(value[key], fieldType, path === '' ? struct : name, child);
        if (problem) return problem;
      }
      return '';
    }
  }
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}

/** One failed field rule, as in the `causes` of a 422 Status. */
export interface FieldCause {
  reason: 'FieldValueInvalid';
  field: string;
  message: string;
}

/**
 * kube-apiserver's validation of a SubjectAccessReview whose fields decoded: exactly one kind of
 * attributes, a user or a group, and empty metadata. Returns the failed rules (none: valid).
 */
export function subjectAccessReviewCauses(body: {
  metadata?: unknown;
  spec?: unknown;
}): FieldCause[] {
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const causes: FieldCause[] = [];
  const invalid = (field: string, value: unknown, detail: string): void => {
    causes.push({
      reason: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${goValue(value)}: ${detail}`,
    });
  };
  const resource = present(spec['resourceAttributes']);
  const nonResource = present(spec['nonResourceAttributes']);
  if (resource && nonResource) {
    invalid(
      'spec.nonResourceAttributes',
      spec['nonResourceAttributes'],
      'cannot be specified in combination with resourceAttributes',
    );
  }
  if (!resource && !nonResource) {
    invalid(
      'spec.resourceAttributes',
      null,
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  const user = typeof spec['user'] === 'string' ? spec['user'] : '';
  const groups = Array.isArray(spec['groups']) ? spec['groups'] : [];
  if (user === '' && groups.length === 0) {
    invalid('spec.user', user, 'at least one of user or group must be specified');
  }
  if (!isZero(body.metadata)) invalid('metadata', body.metadata, 'must be empty');
  return causes;
}

/** The text of a 422 Status for `causes`, worded as kube-apiserver words it. */
export function invalidMessage(qualifiedKind: string, causes: FieldCause[]): string {
  const errors = causes.map((c) => `${c.field}: ${c.message}`);
  const list = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return `${qualifiedKind} "" is invalid: ${list}`;
}

// A nil pointer is absent; an object, even an empty one, is present.
function present(value: unknown): boolean {
  return value !== null && value !== undefined;
}

// Go's zero value, compared the way Kubernetes' semantic equality does (empty equals nil).
function isZero(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === 0 || value === false) {
    return true;
  }
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isZero);
  return false;
}

// How a field error shows its value: a nil pointer as "null", anything else as JSON.
function goValue(value: unknown): string {
  return value === null || value === undefined ? '"null"' : JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
