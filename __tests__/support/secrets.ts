/**
 * The suite's check that no credential ever reaches a log line, an error message or the
 * process's output. Tests register every token and private key they use; the package's logger
 * in the tests is `recordingLogger` (not a silent one), and `no-secrets.setup.ts` also records
 * whatever the test file writes to stdout/stderr. After each file, nothing registered may appear.
 */
import type { Logger } from '../../lib/logger.js';

const secrets = new Set<string>();
const recorded: string[] = [];

/** Marks values that must never be printed: tokens, PEM keys (each base64 line counts). */
export function registerSecrets(...values: string[]): void {
  for (const value of values) {
    if (value.includes('PRIVATE KEY')) {
      // A key leaks if any line of its body does.
      for (const line of value.split('\n'))
        if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) secrets.add(line);
    } else if (value.length >= 4) {
      secrets.add(value);
    }
  }
}

/** Records what the package logs at every level, for the check (and keeps test output quiet). */
export const recordingLogger: Required<Logger> = {
  error: (message) => void recorded.push(message),
  warn: (message) => void recorded.push(message),
  info: (message) => void recorded.push(message),
  debug: (message) => void recorded.push(message),
};

/** Also checks this text (an error message, captured output). */
export function record(text: string): void {
  recorded.push(text);
}

/** Every registered secret found in what was recorded. */
export function leakedSecrets(): string[] {
  const all = recorded.join('\n');
  return [...secrets].filter((secret) => all.includes(secret)).map((s) => `${s.slice(0, 4)}…`);
}

/** How many lines were recorded (so a test can tell the check saw something). */
export function recordedCount(): number {
  return recorded.length;
}
