/**
 * Reading the Kubernetes objects of a stand-in policy: YAML documents, `List`s, and shape checks
 * whose errors name the object and the field.
 */
import { parseAllDocuments } from 'yaml';
import { didYouMean } from '../option-errors.js';

export type Json = Record<string, unknown>;

// Unknown fields are refused, as kubectl's and kube-apiserver's strict field validation does.
export function checkFields(obj: Json, known: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where}: unknown field ${JSON.stringify(key)}${didYouMean(key, known)}`,
      );
    }
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, where: string): Json {
  if (!isObject(value)) throw new TypeError(`${where} must be an object`);
  return value;
}

export function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`${where} must be a list`);
  return value;
}

export function strings(value: unknown, where: string): string[] {
  const items = list(value, where);
  if (!items.every((v) => typeof v === 'string')) {
    throw new TypeError(`${where} must be a list of strings`);
  }
  return items as string[];
}

export function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new TypeError(`${where} must map strings to strings`);
  }
  return value as Record<string, string>;
}

export function parseYaml(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const error = doc.errors[0];
    if (error) throw new TypeError(`${source} is not valid YAML: ${error.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export function flatten(objects: unknown[], source: string): Json[] {
  const out: Json[] = [];
  objects.forEach((obj, i) => {
    if (!isObject(obj) || typeof obj['kind'] !== 'string') {
      throw new TypeError(`${source}[${i}] is not a Kubernetes object (no kind)`);
    }
    if (obj['kind'].endsWith('List')) {
      const items = obj['items'];
      if (!Array.isArray(items))
        throw new TypeError(`${source}[${i}] (${obj['kind']}) has no items`);
      out.push(...flatten(items, source));
    } else {
      out.push(obj);
    }
  });
  return out;
}

export function describeObject(obj: Json, index: number, source: string): string {
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '?';
  const ns = typeof metadata['namespace'] === 'string' ? `${metadata['namespace']}/` : '';
  return `${source} object #${index} (${String(obj['kind'])} ${ns}${name})`;
}

const METADATA_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Reads `metadata`: a valid name, the namespace a namespaced kind needs, string labels. */
export function readMetadata(
  obj: Json,
  where: string,
  namespaced: boolean,
): { name: string; namespace: string; labels: Record<string, string> } {
  const metadata = object(obj['metadata'] ?? {}, `${where}: metadata`);
  checkFields(metadata, METADATA_FIELDS, `${where}: metadata`);
  const name = metadata['name'];
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `${where}: metadata.name: Required value: name or generateName is required`,
    );
  }
  checkPathSegment(name, `${where}: metadata.name`);
  const namespace = metadata['namespace'];
  if (namespaced && (typeof namespace !== 'string' || namespace === '')) {
    // kubectl would fill in the current namespace; there is none here, so say so.
    throw new TypeError(`${where}: metadata.namespace: Required value`);
  }
  const labels = stringMap(metadata['labels'], `${where}: metadata.labels`);
  // A cluster-scoped object's namespace is cleared on create, as kube-apiserver does.
  return { name, namespace: namespaced ? (namespace as string) : '', labels };
}

// Role and binding names only have to be usable as one segment of a URL path.
export function checkPathSegment(name: string, where: string): void {
  const problem =
    name === '.' || name === '..'
      ? `may not be '${name}'`
      : /[/%]/.test(name)
        ? `may not contain '${name.includes('/') ? '/' : '%'}'`
        : undefined;
  if (problem) throw new TypeError(`${where}: Invalid value: ${JSON.stringify(name)}: ${problem}`);
}
