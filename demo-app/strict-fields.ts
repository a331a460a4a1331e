/**
 * The kubelet's strict decoding of its config file: every field name, at every level, must be
 * one the configuration type has (case matters), and no mapping may name a key twice. A
 * misspelt field would otherwise be dropped without a word and its default used instead.
 */
import type { Document, YAMLMap } from 'yaml';
import { closestMatch } from 'leven';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { ObjectSchema } from './kubelet-config-fields.js';
import { objectFields } from './kubelet-config-fields.js';

/**
 * One entry per problem, in file order, worded as the kubelet's decoder words them:
 * `unknown field "authentication.anonymus" (did you mean "authentication.anonymous"?)`,
 * `duplicate field "port"`. Empty when the document decodes strictly.
 */
export function strictFieldErrors(doc: Document, schema: ObjectSchema): string[] {
  const errors: string[] = [];
  // The nodes being walked: an alias inside its own anchor would otherwise loop.
  const ancestors = new Set<unknown>();

  // `fields` is undefined inside free-form maps and lists of scalars: keys there are data,
  // only checked for duplicates.
  const walk = (node: unknown, fields: ObjectSchema | undefined, path: string): void => {
    const target = isAlias(node) ? node.resolve(doc) : node;
    if (target === undefined || ancestors.has(target)) return;
    ancestors.add(target);
    if (isSeq(target)) {
      target.items.forEach((item, index) => walk(item, fields, `${path}[${index}]`));
    } else if (isMap(target)) {
      walkMap(target, fields, path);
    }
    ancestors.delete(target);
  };
  const walkMap = (target: YAMLMap, fields: ObjectSchema | undefined, path: string): void => {
    const seen = new Set<string>();
    for (const pair of target.items) {
      const key = keyText(pair.key);
      const fieldPath = path === '' ? key : `${path}.${key}`;
      if (seen.has(key)) {
        errors.push(`duplicate field ${JSON.stringify(fieldPath)}`);
        continue;
      }
      seen.add(key);
      if (fields === undefined) {
        walk(pair.value, undefined, fieldPath);
        continue;
      }
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (field === undefined) {
        errors.push(`unknown field ${JSON.stringify(fieldPath)}${hint(key, fields, path)}`);
      } else if (field === 'value') {
        walk(pair.value, undefined, fieldPath);
      } else {
        walk(pair.value, objectFields(field), fieldPath);
      }
    }
  };
  walk(doc.contents, schema, '');
  return errors;
}

// ` (did you mean "authentication.anonymous"?)`, naming the whole path as the error does: the
// field that differs only in case, or else the nearest one at most two edits away.
function hint(key: string, fields: ObjectSchema, path: string): string {
  const names = Object.keys(fields);
  const lower = names.map((name) => name.toLowerCase());
  const match = closestMatch(key.toLowerCase(), lower, { maxDistance: 2 });
  const near = match === undefined ? undefined : names[lower.indexOf(match)];
  if (near === undefined) return '';
  return ` (did you mean ${JSON.stringify(path === '' ? near : `${path}.${near}`)}?)`;
}

// A key as it becomes a JSON object key.
function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}
