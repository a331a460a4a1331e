import type { AuthRequest } from './strategy-actions.js';

type Lines = AuthRequest & { headersDistinct?: Record<string, string[]> };

/**
 * Removes every line of header `name` (lower case) from the request's three views: `headers`,
 * `rawHeaders` and `headersDistinct`, so that no route reads it and no proxy forwards it,
 * whichever view it copies. Node builds `headersDistinct` lazily from the first N raw lines it
 * parsed; once the list is shorter that would read past its end (a TypeError in whatever route
 * asks), so the view is rebuilt from the lines that are left, when first read.
 */
export function removeHeaderLines(req: Lines, name: string): void {
  delete req.headers[name];
  const raw = req.rawHeaders;
  if (!raw || !hasLine(raw, name)) return;
  detachDistinctView(req);
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (isLine(raw[i], name)) raw.splice(i, 2);
  }
}

/**
 * Keeps one line of header `name` (lower case), with `value`, in all three views, and removes
 * the others.
 */
export function replaceHeaderLines(req: Lines, name: string, value: string): void {
  req.headers[name] = value;
  const raw = req.rawHeaders;
  if (!raw || !hasLine(raw, name)) return;
  detachDistinctView(req);
  let kept = false;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (!isLine(raw[i], name)) continue;
    if (kept) raw.splice(i, 2);
    else {
      raw[i + 1] = value;
      kept = true;
    }
  }
}

function isLine(line: string | undefined, name: string): boolean {
  return line !== undefined && line.length === name.length && line.toLowerCase() === name;
}

function hasLine(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (isLine(raw[i], name)) return true;
  return false;
}

/** `headersDistinct` from the request's raw lines as they are when it is first read. */
function detachDistinctView(req: Lines): void {
  if (!Object.hasOwn(req, 'headersDistinct')) Object.defineProperty(req, 'headersDistinct', LAZY);
}

/** Shared by every request: nothing is allocated for the view until someone reads it. */
const LAZY: PropertyDescriptor = Object.freeze({
  configurable: true,
  enumerable: true,
  get(this: Lines): Record<string, string[]> {
    const view: Record<string, string[]> = {};
    const lines = this.rawHeaders ?? [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const key = (lines[i] as string).toLowerCase();
      (view[key] ??= []).push(lines[i + 1] as string);
    }
    settle(this, view);
    return view;
  },
  set(this: Lines, value: unknown): void {
    settle(this, value);
  },
});

function settle(req: Lines, value: unknown): void {
  Object.defineProperty(req, 'headersDistinct', {
    value,
    writable: true,
    configurable: true,
    enumerable: true,
  });
}
