import type { Attributes, KubeUser } from '../../contracts.js';
import { checkKnownKeys, invalidOption } from '../../option-errors.js';

/**
 * The resource a request is checked against: a SubjectAccessReview's `resourceAttributes`, as
 * RBAC matches them (`resources: ['reports']`, `apiGroups: ['example.com']`, …).
 */
export interface ResourceRule {
  /** The resource (`'reports'`, `'services'`): required, without a `/`. */
  resource: string;
  /** The subresource (`'proxy'`, `'log'`). Default: `''` (none). */
  subresource?: string;
  /** The API group (`'example.com'`). Default: `''` (the core group). */
  group?: string;
  /** The API version. Default: `''` (not sent; RBAC does not look at versions). */
  version?: string;
  /** The namespace. Default: `''` (cluster-scoped: only ClusterRoleBindings can allow it). */
  namespace?: string;
  /** The object's name (RBAC `resourceNames`). Default: `''` (any name). */
  name?: string;
  /** The verb, instead of the one mapped from the method (e.g. `'list'`). Default: mapped. */
  verb?: string;
}

/** A {@link ResourceRule} with its defaults filled in; `verb` `''` means "from the method". */
export type ResourceTemplate = Omit<Attributes, 'user' | 'resourceRequest' | 'path'>;

const RULE_FIELDS = ['resource', 'subresource', 'group', 'version', 'namespace', 'name', 'verb'];

/** Names people write for a field, and the field they mean. */
const HINTS: Readonly<Record<string, string>> = {
  apiGroup: 'group',
  apiGroups: 'group',
  apiVersion: 'version',
  resources: 'resource',
  subresources: 'subresource',
  verbs: 'verb',
  namespaces: 'namespace',
  resourceName: 'name',
  resourceNames: 'name',
};

/**
 * Checks a {@link ResourceRule} (a fixed one at construction, or what a computed rule returned)
 * and fills in its defaults. Throws `ERR_INVALID_OPTION` naming `where` and the field.
 */
export function resourceTemplate(rule: unknown, where: string): ResourceTemplate {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw invalidOption(
      `${where}: expected { resource, subresource?, group?, version?, namespace?, name?, verb? }, a function, or { allOf }`,
    );
  }
  const fields = rule as Record<string, unknown>;
  if (Object.keys(fields).includes('allOf'))
    throw invalidOption(`${where}: allOf cannot be nested`);
  checkKnownKeys(where, fields, RULE_FIELDS, { aliases: HINTS, noun: 'field' });
  const resource = fields['resource'];
  if (typeof resource !== 'string' || resource === '') {
    throw invalidOption(`${where}.resource: expected a non-empty string`);
  }
  if (resource.includes('/')) {
    const [res, sub] = resource.split('/', 2);
    throw invalidOption(
      `${where}.resource: ${JSON.stringify(resource)} has a "/": write { resource: ${JSON.stringify(res)}, subresource: ${JSON.stringify(sub)} }`,
    );
  }
  const verb = optionalString(fields, 'verb', where);
  if (fields['verb'] !== undefined && verb === '') {
    throw invalidOption(
      `${where}.verb: expected a non-empty verb (leave it out to map the method)`,
    );
  }
  return {
    verb,
    namespace: optionalString(fields, 'namespace', where),
    apiGroup: optionalString(fields, 'group', where),
    apiVersion: optionalString(fields, 'version', where),
    resource,
    subresource: optionalString(fields, 'subresource', where),
    name: optionalString(fields, 'name', where),
  };
}

/** The attribute record a template asks for `user`; `verb` is used when the rule names none. */
export function resourceAttributes(
  t: ResourceTemplate,
  verb: string,
  user: KubeUser,
  path: string,
): Attributes {
  return {
    user,
    verb: t.verb || verb,
    namespace: t.namespace,
    apiGroup: t.apiGroup,
    apiVersion: t.apiVersion,
    resource: t.resource,
    subresource: t.subresource,
    name: t.name,
    resourceRequest: true,
    path,
  };
}

function optionalString(fields: Record<string, unknown>, key: string, where: string): string {
  const value = fields[key];
  if (value === undefined) return '';
  if (typeof value !== 'string') {
    throw invalidOption(`${where}.${key}: expected a string, got ${typeof value}`);
  }
  return value;
}
