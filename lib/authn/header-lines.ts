import { IncomingMessage } from 'node:http';
import type { AuthRequest } from './strategy-actions.js';

type Lines = AuthRequest & { headersDistinct?: Record<string, string[]> };

/**
 * Removes every line of header `name` (lower case) from the request's three views: `headers`,
 * `rawHeaders` and `headersDistinct`, so that no route reads it and no proxy forwards it,
 * whichever view it copies. Node builds `headers` and `headersDistinct` lazily from the first N
 * raw lines it parsed, so the raw list may only shrink together with that N (see
 * {@link lazyViews}); where that cannot be done, the distinct view is built first instead.
 */
export function removeHeaderLines(req: Lines, name: string): void {
  const raw = req.rawHeaders;
  if (raw === undefined || !countsRawLines(req, raw)) return removeEagerly(req, raw, name);
  // A view Node has not built yet is left alone: built later, it will not have the lines.
  const headers = builtView(req, 'headers');
  if (headers) delete headers[name];
  const before = raw.length;
  dropLines(raw, name);
  if (raw.length === before) return;
  setRawCount(req, raw.length);
  const distinct = builtView(req, 'distinct');
  if (distinct) delete distinct[name];
}

/** {@link removeHeaderLines} where the raw list cannot shrink with Node's count. */
function removeEagerly(req: Lines, raw: string[] | undefined, name: string): void {
  delete req.headers[name];
  // The distinct view reads the raw list when first asked for: built now, while it is whole.
  if (!raw || !hasLine(raw, name)) return;
  settleDistinctView(req, name);
  dropLines(raw, name);
}

/**
 * Removes the lines of header `name` from `raw` in place, keeping the others in order (no
 * array is made for what is removed, as `splice` would on every request).
 */
function dropLines(raw: string[], name: string): void {
  let kept = 0;
  let i = 0;
  for (; i + 1 < raw.length; i += 2) {
    if (isLine(raw[i], name)) continue;
    if (kept !== i) {
      raw[kept] = raw[i] as string;
      raw[kept + 1] = raw[i + 1] as string;
    }
    kept += 2;
  }
  // A name without a value (not from Node's parser) stays, as it was.
  if (i < raw.length) raw[kept++] = raw[i] as string;
  // `pop`, which the compiler inlines, rather than the `length` setter (a call into the runtime).
  while (raw.length > kept) raw.pop();
}

/**
 * The first line of header `name` (lower case), as `req.headers[name]` shows a header of which
 * Node keeps only the first (`authorization`, `host`, …). Read from the raw lines while Node has
 * not built its `headers` view, so that a credential removed next never enters it.
 */
export function firstHeaderLine(req: Lines, name: string): string | undefined {
  const raw = req.rawHeaders;
  if (raw === undefined || !countsRawLines(req, raw) || builtView(req, 'headers')) {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  for (let i = 0; i < raw.length; i += 2) if (isLine(raw[i], name)) return raw[i + 1];
  return undefined;
}

/**
 * Keeps one line of header `name` (lower case), with `value`, in all three views, and removes
 * the others.
 */
export function replaceHeaderLines(req: Lines, name: string, value: string): void {
  req.headers[name] = value;
  const raw = req.rawHeaders;
  if (!raw || !hasLine(raw, name)) return;
  const distinct = settleDistinctView(req, name);
  if (distinct) distinct[name] = [value];
  const counted = countsRawLines(req, raw);
  let kept = false;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (!isLine(raw[i], name)) continue;
    if (kept) raw.splice(i, 2);
    else {
      raw[i + 1] = value;
      kept = true;
    }
  }
  if (counted) setRawCount(req, raw.length);
}

/**
 * Whether raw header name `line` is `name` (lower case) in any case. Compared character by
 * character, so no lower-cased copy is made per line and request; a non-ASCII character (never
 * in a name Node's parser accepts) falls back to `toLowerCase`, as Node's own matching does.
 */
function isLine(line: string | undefined, name: string): boolean {
  if (line === undefined || line.length !== name.length) return false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === name.charCodeAt(i)) continue;
    if (c >= 0x80) return line.toLowerCase() === name;
    if (c < 0x41 || c > 0x5a || (c | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function hasLine(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (isLine(raw[i], name)) return true;
  return false;
}

/**
 * Node's `headersDistinct`, built now (while the raw list is whole) and without `name`. A
 * request object without that view (not an `IncomingMessage`) is left alone.
 */
function settleDistinctView(req: Lines, name: string): Record<string, string[]> | undefined {
  const distinct = req.headersDistinct;
  if (typeof distinct !== 'object' || distinct === null) return undefined;
  delete distinct[name];
  return distinct;
}

/**
 * Where Node keeps the number of raw lines its lazy views read, and the distinct view once built
 * — private symbols of `IncomingMessage`, found once and trusted only if a probe behaves as
 * expected: a probe's raw list is shortened with its count, then its views must show exactly
 * what is left. Shrinking the count with the list keeps both views right without building
 * either (no allocation on the request path); on a Node whose internals differ this is
 * `undefined` and the views are built eagerly instead.
 */
const lazyViews = findLazyViews();

type Internal = Record<symbol, unknown>;

function findLazyViews(): { count: symbol; headers: symbol; distinct: symbol } | undefined {
  try {
    const probe = new IncomingMessage(null as never) as unknown as Internal & {
      rawHeaders: string[];
      headers: Record<string, unknown>;
      headersDistinct: Record<string, unknown>;
      _addHeaderLines(lines: string[], n: number): void;
    };
    probe._addHeaderLines(['X-A', '1', 'Authorization', 'x', 'X-B', '2'], 6);
    const symbols = Object.getOwnPropertySymbols(probe);
    const count = symbols.find((s) => s.description === 'kHeadersCount' && probe[s] === 6);
    if (!count) return undefined;
    probe.rawHeaders.splice(2, 2);
    probe[count] = 4;
    const headersSymbol = symbols.find((s) => s.description === 'kHeaders' && probe[s] == null);
    const distinct = probe.headersDistinct;
    const headers = probe.headers;
    const distinctSymbol = Object.getOwnPropertySymbols(probe).find(
      (s) => s.description === 'kHeadersDistinct' && probe[s] === distinct,
    );
    const ok =
      distinctSymbol !== undefined &&
      headersSymbol !== undefined &&
      probe[headersSymbol] === headers &&
      JSON.stringify({ ...distinct }) === '{"x-a":["1"],"x-b":["2"]}' &&
      JSON.stringify({ ...headers }) === '{"x-a":"1","x-b":"2"}';
    return ok ? { count, headers: headersSymbol, distinct: distinctSymbol } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `req` is a request whose lazy views read exactly `raw` (so the count can follow it). */
function countsRawLines(req: Lines, raw: readonly string[]): boolean {
  return lazyViews !== undefined && (req as unknown as Internal)[lazyViews.count] === raw.length;
}

function setRawCount(req: Lines, n: number): void {
  if (lazyViews) (req as unknown as Internal)[lazyViews.count] = n;
}

/** Node's lazy `headers` or `headersDistinct` view of `req` if it has built it already. */
function builtView(req: Lines, view: 'headers' | 'distinct'): Record<string, unknown> | undefined {
  if (!lazyViews) return undefined;
  // One load per view (each site then sees one key only): this runs on every request.
  const built =
    view === 'headers'
      ? (req as unknown as Internal)[lazyViews.headers]
      : (req as unknown as Internal)[lazyViews.distinct];
  return typeof built === 'object' && built !== null
    ? (built as Record<string, unknown>)
    : undefined;
}
