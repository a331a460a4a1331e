/**
 * The package's one place that edits a request's headers. A route or a proxy may read any of
 * three views, `headers`, `headersDistinct` and `rawHeaders`, on HTTP/1.1 requests
 * (`IncomingMessage`) and HTTP/2 compatibility requests (`Http2ServerRequest`) alike, so every
 * edit reaches all three. They are edited in place through public properties, so whoever holds
 * one of them (an HTTP/2 `'stream'` listener shares the same objects) sees the edit too.
 */
export interface HeaderRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  headersDistinct?: Record<string, string[] | undefined>;
}

/**
 * Removes every header whose name `matches` from all three views; `beforeEdit`, when given, is
 * called once before the first change. Returns how many lines (or, without `rawHeaders`, header
 * fields) were removed.
 */
export function removeHeadersWhere(
  req: HeaderRequest,
  matches: (name: string) => boolean,
  beforeEdit?: (req: HeaderRequest) => void,
): number {
  const views = materialize(req);
  const { headers, distinct, raw } = views;
  let fields = 0;
  for (const key of Object.keys(headers)) {
    if (!matches(key)) continue;
    if (fields++ === 0) beforeEdit?.(req);
    delete headers[key];
  }
  if (distinct) for (const key of Object.keys(distinct)) if (matches(key)) delete distinct[key];
  holdViews(req, views);
  if (!raw) return fields;
  return removeLines(raw, matches, fields === 0 && beforeEdit ? () => beforeEdit(req) : undefined);
}

/**
 * Drops the `[name, value]` pairs of `raw` whose name `matches`, in place; `beforeEdit`, when
 * given, is called once before the first change. Returns how many pairs went.
 */
function removeLines(
  raw: string[],
  matches: (name: string) => boolean,
  beforeEdit?: () => void,
): number {
  let first = 0;
  while (first + 1 < raw.length && !matches(raw[first] as string)) first += 2;
  if (first + 1 >= raw.length) return 0;
  beforeEdit?.();
  let kept = first;
  let i = first;
  for (; i + 1 < raw.length; i += 2) {
    if (matches(raw[i] as string)) continue;
    raw[kept] = raw[i] as string;
    raw[kept + 1] = raw[i + 1] as string;
    kept += 2;
  }
  const removed = (i - kept) / 2;
  // A name without a value (never from Node's parsers) stays, as it was.
  if (i < raw.length) raw[kept++] = raw[i] as string;
  raw.length = kept;
  return removed;
}

/**
 * Adds header lines (flat `[name, value, …]`) to all three views: in `headers` one value as a
 * string and several as an array (never joined with commas), in `headersDistinct` as a list.
 */
export function appendHeaderLines(req: HeaderRequest, lines: readonly string[]): void {
  const views = materialize(req);
  const { headers, distinct, raw } = views;
  const byName = new Map<string, string[]>();
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const key = (lines[i] as string).toLowerCase();
    const values = byName.get(key) ?? [];
    values.push(lines[i + 1] as string);
    byName.set(key, values);
  }
  for (const [key, values] of byName) {
    headers[key] = values.length === 1 ? values[0] : values;
    if (distinct) distinct[key] = [...values];
  }
  if (raw) raw.push(...lines);
  holdViews(req, views);
}

interface Views {
  headers: Record<string, string | string[] | undefined>;
  distinct: Record<string, string[] | undefined> | undefined;
  raw: string[] | undefined;
}

/**
 * The three views, `headers` and `headersDistinct` built now: Node builds them lazily from the
 * first N entries of `rawHeaders` it parsed, so they must exist before `rawHeaders` changes
 * length, or they would later be built from the wrong list.
 */
function materialize(req: HeaderRequest): Views {
  const headers = req.headers;
  const distinct = req.headersDistinct;
  const raw = req.rawHeaders;
  return {
    headers,
    distinct: typeof distinct === 'object' && distinct !== null ? distinct : undefined,
    raw: Array.isArray(raw) ? raw : undefined,
  };
}

/**
 * Makes the request's views the ones just edited where a property hands out something else (a
 * getter that builds a new one on each read): an own property on the request then shadows it.
 */
function holdViews(req: HeaderRequest, views: Views): void {
  if (req.headers !== views.headers) hold(req, 'headers', views.headers);
  if (views.distinct && req.headersDistinct !== views.distinct) {
    hold(req, 'headersDistinct', views.distinct);
  }
  if (views.raw && req.rawHeaders !== views.raw) hold(req, 'rawHeaders', views.raw);
}

function hold(req: HeaderRequest, key: keyof HeaderRequest, value: object): void {
  Object.defineProperty(req, key, { value, writable: true, enumerable: true, configurable: true });
}

/** `rawHeaders`-style lines for a request object that has only `headers`. */
export function linesOf(headers: Record<string, string | string[] | undefined>): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(name, v);
  }
  return lines;
}

/**
 * Removes every line of header `name` (lower case) from all three views. Only its lower-case key
 * leaves `headers` and `headersDistinct`, where Node keeps every key in lower case (a key in
 * another case put there by the app stays); the raw lines go in any case. Faster than
 * {@link removeHeadersWhere} on Node.js 24 (1.05× and 1.09× in the bench's sliced A/B of the
 * warm token path; 0.99× on Node.js 20: docs/benchmarks.md).
 */
export function removeHeader(req: HeaderRequest, name: string): void {
  const views = materialize(req);
  delete views.headers[name];
  if (views.distinct) delete views.distinct[name];
  holdViews(req, views);
  if (views.raw) {
    removeLines(views.raw, (line) => line.length === name.length && line.toLowerCase() === name);
  }
}

/** Keeps one line of header `name` (lower case), with `value`, in all three views. */
export function replaceHeader(req: HeaderRequest, name: string, value: string): void {
  removeHeader(req, name);
  appendHeaderLines(req, [name, value]);
}
