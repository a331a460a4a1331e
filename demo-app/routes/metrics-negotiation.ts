/**
 * What the kubelet's metrics handlers (client_golang's promhttp, with prometheus/common's
 * `expfmt.Negotiate`) answer to a scraper's `Accept` and `Accept-Encoding`: always the text
 * format here, with the name-escaping scheme the scraper asked for, gzipped when it asked for
 * gzip. The kubelet would answer protobuf to a scraper that prefers it (Prometheus with native
 * histograms); the mock passes over those clauses and answers text.
 */
import { PROMETHEUS_CONTENT_TYPE } from '../payloads/prometheus-text.js';

const ESCAPING_SCHEMES = new Set(['allow-utf-8', 'underscores', 'dots', 'values']);
/** Clauses read from one header, as a header Node accepted can hold thousands. */
const MAX_CLAUSES = 64;

/** One clause of an `Accept` header, as goautoneg parses it. */
interface AcceptClause {
  type: string;
  subType: string;
  q: number;
  params: Map<string, string>;
}

/**
 * The `Content-Type` of a metrics answer: the text format, then `escaping=` with the last
 * known scheme named by the clauses up to the first one for the text format (in goautoneg's
 * order), else `underscores`.
 */
export function metricsContentType(accept: string | undefined): string {
  let escaping = 'underscores';
  for (const clause of acceptClauses(accept ?? '')) {
    const scheme = clause.params.get('escaping');
    if (scheme !== undefined && ESCAPING_SCHEMES.has(scheme)) escaping = scheme;
    const version = clause.params.get('version') ?? '';
    if (
      clause.type === 'text' &&
      clause.subType === 'plain' &&
      (version === '0.0.4' || version === '')
    ) {
      break;
    }
  }
  return `${PROMETHEUS_CONTENT_TYPE}; escaping=${escaping}`;
}

/**
 * Whether promhttp gzips the answer: it offers `identity`, then `gzip`, and takes the first
 * offer that beats every earlier one's quality (`*` matches either); a best quality of 0 means
 * no compression.
 */
export function gzipWanted(acceptEncoding: string | undefined): boolean {
  let best = 'identity';
  let bestQ = -1;
  const specs = encodingSpecs(acceptEncoding ?? '');
  for (const offer of ['identity', 'gzip']) {
    for (const spec of specs) {
      if (spec.q > bestQ && (spec.value === '*' || spec.value === offer)) {
        bestQ = spec.q;
        best = offer;
      }
    }
  }
  return best === 'gzip' && bestQ !== 0;
}

/**
 * goautoneg's `ParseAccept`: clauses split on `,` and `;`, `q` read as a number (0 when it is
 * not one), then ordered by its comparison, which puts a higher `q`, or a type or subtype that
 * is not `*`, first. Go sorts a handful of clauses by insertion, which this repeats.
 */
function acceptClauses(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const part of header.split(',').slice(0, MAX_CLAUSES)) {
    const [range = '', ...params] = part.trim().split(';');
    const [type = '', subType, ...rest] = range.split('/');
    const clause: AcceptClause = { type: type.trim(), subType: '', q: 1, params: new Map() };
    if (subType === undefined && clause.type === '*') clause.subType = '*';
    else if (subType !== undefined && rest.length === 0) clause.subType = subType.trim();
    else continue;
    for (const param of params) {
      const at = param.indexOf('=');
      if (at < 0) continue;
      const name = param.slice(0, at).trim();
      const value = param.slice(at + 1);
      if (name === 'q') clause.q = goFloat(value);
      else clause.params.set(name, value.trim());
    }
    clauses.push(clause);
  }
  for (let i = 1; i < clauses.length; i++) {
    for (
      let j = i;
      j > 0 && before(clauses[j] as AcceptClause, clauses[j - 1] as AcceptClause);
      j--
    ) {
      [clauses[j - 1], clauses[j]] = [clauses[j] as AcceptClause, clauses[j - 1] as AcceptClause];
    }
  }
  return clauses;
}

/** goautoneg's `Less`. */
function before(a: AcceptClause, b: AcceptClause): boolean {
  return (
    a.q > b.q || (a.type !== '*' && b.type === '*') || (a.subType !== '*' && b.subType === '*')
  );
}

/** Go's `strconv.ParseFloat` for the decimal forms a `q` takes, with 0 for anything else. */
function goFloat(text: string): number {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Math.fround(Number(text)) : 0;
}

/** One `Accept-Encoding` entry. */
interface EncodingSpec {
  value: string;
  q: number;
}

/**
 * gddo's `header.ParseAccept` for `Accept-Encoding`: tokens, each with an optional `;q=`, read
 * until something else; an entry whose parameter is not a quality is dropped with the rest.
 */
function encodingSpecs(header: string): EncodingSpec[] {
  const specs: EncodingSpec[] = [];
  let rest = header;
  while (specs.length < MAX_CLAUSES) {
    const value = /^[!#$%&'*+\-.^_`|~0-9A-Za-z/]+/.exec(rest)?.[0];
    if (value === undefined) break;
    rest = rest.slice(value.length).replace(/^[ \t]*/, '');
    let q = 1;
    if (rest.startsWith(';')) {
      const quality = /^;[ \t]*q=([01](?:\.\d*)?)/.exec(rest);
      if (!quality) break;
      q = Number(quality[1]);
      rest = rest.slice(quality[0].length);
    }
    specs.push({ value, q });
    const comma = /^[ \t]*,[ \t]*/.exec(rest);
    if (!comma) break;
    rest = rest.slice(comma[0].length);
  }
  return specs;
}
