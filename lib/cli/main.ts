#!/usr/bin/env node
/**
 * The `express-kubelet-auth` command line: argv in, text out, an exit code back. Only `explain`
 * exists; it helps write RBAC before deploying. Imports nothing outside `lib/` (it ships as
 * `dist/cli/main.js`).
 */
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  escapeControlCharacters,
  escapeControlCharactersInLines,
  quoted,
} from '../control-characters.js';
import { ANONYMOUS_USER } from '../user.js';
import { clusterRoleFor, DEFAULT_ROLE_NAME, RequestListError } from './cluster-role.js';
import { EXAMPLE_USER, explainRequest } from './explain.js';
import {
  explanationReport,
  formatExplanation,
  serialize,
  type OutputFormat,
} from './explain-output.js';
import { packageVersion } from './version.js';

/** Where the command writes; the real process streams, or a fake in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROGRAM = 'express-kubelet-auth';

export const USAGE = `Usage:
  ${PROGRAM} explain <METHOD> <PATH> --node <name> [--user <name>] [--group <group>]...
                     [--uid <id>] [--fine-grained=true|false] [--output=yaml|json]
  ${PROGRAM} explain --rbac <file|-> [--name <role>] [--fine-grained=true|false] [--output=yaml|json]
  ${PROGRAM} --help | --version

explain METHOD PATH prints what the middleware does with one request: the decoded path (or
the 400 it answers), the attributes it asks about in order (the first Allow wins), each
SubjectAccessReview it sends, and the minimal ClusterRole rule that allows the request;
with --output=json, all of that as one JSON document.
The user defaults to "${EXAMPLE_USER}"; authenticated users get the group system:authenticated,
${ANONYMOUS_USER} gets system:unauthenticated only.

explain --rbac reads one "METHOD PATH" per line (blank lines and # comments are ignored; "-"
reads standard input) and prints one ClusterRole (default name "${DEFAULT_ROLE_NAME}") that
allows them all (--output=json: as JSON). Paths the middleware refuses with 400 are listed on
standard error.

Exit codes: 0 done; 1 usage error, bad input line or refused path.
`;

/** A mistake in the command line: reported as one line, never as a stack trace. */
class UsageError extends Error {}

const OPTIONS = {
  node: { type: 'string' },
  user: { type: 'string' },
  group: { type: 'string', multiple: true },
  uid: { type: 'string' },
  'fine-grained': { type: 'string' },
  output: { type: 'string' },
  rbac: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code.
 * Never throws for bad input: it says what is wrong on `io.stderr` in one line. Everything
 * written has its control characters (but line breaks) escaped: much of it echoes the input.
 */
export async function main(argv: string[], terminal: CliIo): Promise<number> {
  const io: CliIo = {
    stdout: (text) => terminal.stdout(escapeControlCharactersInLines(text)),
    stderr: (text) => terminal.stderr(escapeControlCharactersInLines(text)),
  };
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof RequestListError || isArgError(error)) {
      io.stderr(`${PROGRAM}: ${oneLine((error as Error).message)} (see --help)\n`);
      return 1;
    }
    throw error;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.version) {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('missing command: explain');
  if (command !== 'explain') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const fineGrained = parseBoolean(values['fine-grained'], '--fine-grained');
  const output = parseOutput(values.output);

  if (values.rbac !== undefined) {
    if (rest.length > 0) throw new UsageError('--rbac takes no METHOD PATH arguments');
    if (values.name !== undefined) checkRoleName(values.name);
    const text = await readRequestList(values.rbac);
    const result = clusterRoleFor(text.split(/\r?\n/), { name: values.name, fineGrained });
    for (const { line, reason } of result.refused) io.stderr(`line ${line}: ${reason}\n`);
    if (result.refused.length === 0 && result.role.rules.length === 0) {
      const where = values.rbac === '-' ? 'standard input' : values.rbac;
      throw new UsageError(`no "METHOD PATH" lines in ${where}`);
    }
    io.stdout(output === 'json' ? serialize(result.role, 'json') : result.yaml);
    return result.refused.length > 0 ? 1 : 0;
  }

  if (values.name !== undefined) throw new UsageError('--name is only for --rbac');
  const [method, path, ...extra] = rest;
  if (method === undefined || path === undefined) {
    throw new UsageError('explain needs METHOD and PATH, e.g. explain GET /stats/summary');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (values.node === undefined || values.node === '') throw new UsageError('--node is required');
  if (values.user === ANONYMOUS_USER && (values.group !== undefined || values.uid !== undefined)) {
    throw new UsageError(`${ANONYMOUS_USER} has no uid and only the group system:unauthenticated`);
  }
  const result = explainRequest(method, path, {
    nodeName: values.node,
    user: values.user,
    groups: values.group,
    uid: values.uid,
    fineGrained,
  });
  io.stdout(
    output === 'json' ? serialize(explanationReport(result), 'json') : formatExplanation(result),
  );
  return result.refused ? 1 : 0;
}

/**
 * A ClusterRole name as the API server accepts it (a path segment: not `.` or `..`, no `/` or
 * `%`), and printable: the name is written into the YAML as it is.
 */
function checkRoleName(name: string): void {
  const printable = escapeControlCharacters(name) === name;
  if (!printable || name === '' || name === '.' || name === '..' || /[/%]/.test(name)) {
    throw new UsageError(`--name ${quoted(name)} is not a valid ClusterRole name`);
  }
}

function parseBoolean(value: string | undefined, flag: string): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} must be true or false, not ${JSON.stringify(value)}`);
}

function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'yaml' || value === 'json') return value ?? 'yaml';
  throw new UsageError(`--output must be yaml or json, not ${JSON.stringify(value)}`);
}

async function readRequestList(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, { encoding: 'utf8' });
  } catch (error) {
    const { code } = error as { code?: unknown };
    throw new UsageError(`cannot read ${file}: ${typeof code === 'string' ? code : String(error)}`);
  }
}

// parseArgs reports unknown options and missing values as TypeErrors with these codes.
function isArgError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

// One line, and without parseArgs' hint about '--', which a METHOD or PATH never needs.
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').replace(/\. To specify a positional argument.*$/, '');
}

// Run only when executed (the bin, or `node lib/cli/main.ts`), not when imported by tests.
// realpath: npm links the bin, so argv[1] may be a symlink to this file.
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
