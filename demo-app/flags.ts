/**
 * The command line, read the way the kubelet's pflag reads it: `--flag=value` and
 * `--flag value`, booleans bare or with a Go boolean after `=`, `-h` / `--help`, the last
 * occurrence of a flag wins (feature gates merge). Values are checked here so a bad one is
 * reported with the flag's name before anything starts.
 */
import { parseArgs } from 'node:util';
import type { KubeletAuthorizationMode } from 'express-kubelet-auth';
import { CliError, invalidValue } from './cli-error.js';
import type { FeatureGates } from './feature-gates.js';
import { parseFeatureGates } from './feature-gates.js';
import type { FlagName } from './flag-specs.js';
import { FLAG_SPECS, isFlagName } from './flag-specs.js';
import { parseGoBool } from './go-bool.js';
import {
  parseAuthorizationMode,
  parseDurationText,
  parseIpAddress,
  parsePort,
} from './value-parsers.js';

/** The flags given on the command line, typed; durations in milliseconds. */
export interface FlagValues {
  address?: string;
  port?: number;
  'tls-cert-file'?: string;
  'tls-private-key-file'?: string;
  'client-ca-file'?: string;
  'anonymous-auth'?: boolean;
  'authentication-token-webhook'?: boolean;
  'authentication-token-webhook-cache-ttl'?: number;
  'authorization-mode'?: KubeletAuthorizationMode;
  'authorization-webhook-cache-authorized-ttl'?: number;
  'authorization-webhook-cache-unauthorized-ttl'?: number;
  kubeconfig?: string;
  'hostname-override'?: string;
  'feature-gates'?: Partial<FeatureGates>;
  config?: string;
}

export interface CommandLine {
  /** `-h` / `--help` was given: print usage, start nothing. */
  help: boolean;
  /** Only the flags that were given (absent = not on the command line). */
  flags: FlagValues;
}

/**
 * Parses kubelet-style arguments. Throws a {@link CliError} with a one-line message for an
 * unknown flag, a missing or bad value, or a stray argument.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const normalized = normalizePflagSyntax(argv);
  let raw: Record<string, string | string[] | boolean | undefined>;
  try {
    raw = parseArgs({
      args: normalized,
      options: PARSE_ARGS_OPTIONS,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // The pre-pass already rejects what pflag rejects; this is a safety net that still
    // keeps the promise of one readable line.
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(message.split('\n')[0] ?? message);
  }

  const flags: FlagValues = {};
  let help = false;
  for (const [name, value] of Object.entries(raw)) {
    if (!isFlagName(name) || value === undefined || typeof value === 'boolean') continue;
    if (name === 'help') {
      help = readBool(name, lastOf(value));
      continue;
    }
    if (name === 'feature-gates') {
      flags[name] = readGates(Array.isArray(value) ? value : [value]);
      continue;
    }
    assignFlag(flags, name, lastOf(value));
  }
  return { help, flags };
}

// Every flag goes to parseArgs as a string (booleans were made explicit by the pre-pass), so
// that `--anonymous-auth=false` and Go's other boolean spellings survive parsing.
const PARSE_ARGS_OPTIONS = Object.fromEntries(
  Object.keys(FLAG_SPECS).map((name) => [
    name,
    name === 'feature-gates'
      ? { type: 'string' as const, multiple: true }
      : { type: 'string' as const },
  ]),
);

/**
 * Rewrites pflag syntax that `parseArgs` does not know into `--name=value` form, rejecting
 * what pflag rejects with pflag's words: a bare boolean means `=true` and never takes the next
 * argument; any other flag without `=` takes the next argument, whatever it looks like.
 */
function normalizePflagSyntax(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      const extra = argv[i + 1];
      if (extra !== undefined) throw new CliError(`unexpected argument ${JSON.stringify(extra)}`);
      break;
    }
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      if (name === '' || name.startsWith('-')) throw new CliError(`bad flag syntax: ${arg}`);
      if (!isFlagName(name)) throw new CliError(`unknown flag: --${name}`);
      if (eq !== -1) {
        out.push(arg);
      } else if (FLAG_SPECS[name].kind === 'bool') {
        out.push(`--${name}=true`);
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new CliError(`flag needs an argument: --${name}`);
        out.push(`--${name}=${next}`);
        i++;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      if (arg === '-h') out.push('--help=true');
      else if (arg.startsWith('-h=')) out.push(`--help=${arg.slice(3)}`);
      else throw new CliError(`unknown shorthand flag: '${arg.charAt(1)}' in ${arg}`);
      continue;
    }
    // The kubelet takes no positional arguments. `--anonymous-auth false` is the classic slip:
    // pflag booleans never take the next argument, so say how to write it.
    const previous = argv[i - 1] ?? '';
    const previousName = previous.slice(2);
    const hint =
      previous.startsWith('--') &&
      isFlagName(previousName) &&
      FLAG_SPECS[previousName].kind === 'bool' &&
      parseGoBool(arg) !== undefined
        ? ` (boolean flags take a value only after "=": ${previous}=${arg})`
        : '';
    throw new CliError(`unexpected argument ${JSON.stringify(arg)}${hint}`);
  }
  return out;
}

function assignFlag(
  flags: FlagValues,
  name: Exclude<FlagName, 'help' | 'feature-gates'>,
  text: string,
): void {
  const spec = FLAG_SPECS[name];
  const setting = `flag --${name}`;
  const read = <T>(parse: (value: string) => T): T => {
    try {
      return parse(text);
    } catch (error) {
      throw invalidValue(setting, text, (error as Error).message);
    }
  };
  switch (name) {
    case 'anonymous-auth':
    case 'authentication-token-webhook':
      flags[name] = readBool(name, text);
      return;
    case 'port':
      flags[name] = read(parsePort);
      return;
    case 'address':
      flags[name] = read(parseIpAddress);
      return;
    case 'authorization-mode':
      flags[name] = read(parseAuthorizationMode);
      return;
    case 'authentication-token-webhook-cache-ttl':
    case 'authorization-webhook-cache-authorized-ttl':
    case 'authorization-webhook-cache-unauthorized-ttl':
      flags[name] = read(parseDurationText);
      return;
    default:
      // The remaining flags are plain strings (paths, the node name).
      if (spec.kind !== 'string') throw new Error(`flag --${name} has no reader`);
      flags[name] = text;
  }
}

function readBool(name: FlagName, text: string): boolean {
  const value = parseGoBool(text);
  if (value === undefined) {
    throw invalidValue(`flag --${name}`, text, 'must be a boolean (true or false)');
  }
  return value;
}

function readGates(texts: readonly string[]): Partial<FeatureGates> {
  const gates: Partial<FeatureGates> = {};
  for (const text of texts) {
    try {
      Object.assign(gates, parseFeatureGates(text));
    } catch (error) {
      throw invalidValue('flag --feature-gates', text, (error as Error).message);
    }
  }
  return gates;
}

function lastOf(value: string | string[]): string {
  return Array.isArray(value) ? (value[value.length - 1] ?? '') : value;
}
