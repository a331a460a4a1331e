/**
 * Entry point of the mock kubelet (`npm start [-- <kubelet flags>]`, i.e. `tsx demo-app/main.ts`).
 * See cli.ts for what it does; `--help` lists the flags.
 */
import { escapeControlCharactersInLines } from 'express-kubelet-auth/parts';
import { PROGRAM, runCli } from './cli.js';

// Whatever goes wrong, the user gets one line, not a stack trace (set NODE_DEBUG-style
// MOCK_KUBELET_DEBUG=1 to see the stack when investigating the mock itself).
const fatal = (error: unknown): never => {
  const text =
    process.env.MOCK_KUBELET_DEBUG && error instanceof Error && error.stack
      ? error.stack
      : (error instanceof Error ? error.message : String(error)).split('\n')[0];
  process.stderr.write(`${PROGRAM}: fatal: ${escapeControlCharactersInLines(text ?? '')}\n`);
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

// Exit explicitly: the client CA watcher and keep-alive timers must not keep a stopped server alive.
process.exit(await runCli(process.argv.slice(2)));
