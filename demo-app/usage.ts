/**
 * `--help` text, laid out like pflag's (the kubelet's) usage so the flags read familiar.
 */
import type { FlagSpec } from './flag-specs.js';
import { FLAG_SPECS } from './flag-specs.js';

const INTRO = `mock-kubelet: a stand-in for the kubelet's secure port (10250), protected like the real one
(x509 client certificates, TokenReview bearer tokens, SubjectAccessReview authorization).

With no flags it starts in dev mode: an embedded stand-in API server, throw-away certificates,
a sample RBAC policy, and ready-to-paste curl / kubectl commands. Any flag except
--hostname-override selects real mode, configured only by flags and --config.

Usage:
  mock-kubelet [flags]

Flags:`;

/** The full usage text, ending with a newline. */
export function usageText(): string {
  const rows = Object.entries(FLAG_SPECS).map(([name, spec]: [string, FlagSpec]) => {
    const head = `  ${name === 'help' ? '-h, ' : '    '}--${name}${spec.typeName ? ` ${spec.typeName}` : ''}`;
    const defaultText = spec.defaultText === undefined ? '' : ` (default ${spec.defaultText})`;
    return { head, text: `${spec.usage}${defaultText}` };
  });
  const width = Math.max(...rows.map((row) => row.head.length)) + 3;
  const lines = rows.map(({ head, text }) => {
    const [first = '', ...rest] = text.split('\n');
    const pad = ' '.repeat(width);
    return [head.padEnd(width) + first, ...rest.map((line) => pad + line)].join('\n');
  });
  return `${INTRO}\n${lines.join('\n')}\n`;
}
