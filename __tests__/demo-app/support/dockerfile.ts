/**
 * Replays a Dockerfile without a Docker engine, so a test can check that its steps still build
 * and run: each stage gets a folder standing in for its root filesystem, COPY copies (from the
 * build context, honouring its `.dockerignore`, or from an earlier stage), RUN runs the command
 * with `sh` in the stage's WORKDIR. `npm ci` cannot fetch in a test, so it is recorded and this
 * checkout's node_modules is linked in its place. Only the instructions the mock kubelet's
 * Dockerfile uses are understood; any other one fails the replay, so the test is updated with it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** An `npm ci` the replay stood in for: where it ran (in the stage's folder) and its flags. */
export interface NpmCi {
  stage: number;
  /** The WORKDIR, as a folder of the replay. */
  dir: string;
  flags: string[];
}

/** What a replayed stage ends with. */
export interface ReplayedStage {
  /** The folder standing in for the stage's `/`. */
  root: string;
  /** The last WORKDIR, as a folder of the replay. */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
}

const KNOWN = new Set([
  'ARG',
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ENV',
  'USER',
  'EXPOSE',
  'ENTRYPOINT',
]);

/** The stages of a Dockerfile, with global `ARG` defaults substituted into `FROM`. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (!KNOWN.has(instruction.keyword)) {
      throw new Error(`the replay does not know ${instruction.keyword}: teach it, or the test`);
    }
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
    } else if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest
        .replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? '')
        .split(/\s+/);
      stages.push({ image, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** `.dockerignore` patterns as tests of a context-relative path. */
function ignoreRules(file: string): ((path: string) => boolean)[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((pattern) => {
      const source = pattern
        .replace(/^\/+/, '')
        .split('/')
        .map((part) =>
          part === '**'
            ? '(?:.*/)?'
            : `${part
                .replace(/[.+^$()|[\]{}]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]')}/`,
        )
        .join('');
      const regex = new RegExp(`^${source.replace(/\/$/, '')}(?:/.*)?$`);
      return (path: string) => regex.test(path);
    });
}

/**
 * Replays `stages` in `into` (one folder per stage), with `context` as the build context and
 * `dockerignore` as its ignore file. Returns each stage's end state and the `npm ci`s stood in for.
 */
export function replayDockerfile(options: {
  stages: Stage[];
  context: string;
  dockerignore: string;
  into: string;
  nodeModules: string;
}): { stages: ReplayedStage[]; npmCi: NpmCi[] } {
  const ignored = ignoreRules(options.dockerignore);
  const isIgnored = (path: string): boolean => ignored.some((rule) => rule(path));
  const npmCi: NpmCi[] = [];
  const replayed: ReplayedStage[] = [];

  options.stages.forEach((stage, index) => {
    const root = join(options.into, `stage-${index}`);
    mkdirSync(root, { recursive: true });
    let cwd = '/';
    const at = (path: string): string => join(root, posix.resolve(cwd, path));
    const state: ReplayedStage = { root, workdir: root, env: {} };

    for (const { keyword, args } of stage.instructions) {
      if (keyword === 'WORKDIR') {
        cwd = posix.resolve(cwd, args);
        mkdirSync(at('.'), { recursive: true });
      } else if (keyword === 'COPY') {
        const words = args.split(/\s+/);
        const from = words[0]?.startsWith('--from=') ? words.shift()?.slice(7) : undefined;
        const dest = words.pop() ?? '';
        const source =
          from === undefined
            ? (path: string) => join(options.context, path)
            : (path: string) => {
                const earlier = options.stages.findIndex((s) => s.name === from);
                const found = replayed[earlier];
                if (!found) throw new Error(`COPY --from=${from}: no earlier stage of that name`);
                return join(found.root, posix.resolve('/', path));
              };
        for (const path of words) {
          const src = source(path);
          const target = at(dest);
          const intoFolder = dest.endsWith('/') || words.length > 1 || statSync(src).isDirectory();
          mkdirSync(intoFolder ? target : join(target, '..'), { recursive: true });
          const filter = (file: string): boolean =>
            from !== undefined || !isIgnored(relative(options.context, file));
          if (statSync(src).isDirectory()) cpSync(src, target, { recursive: true, filter });
          else if (filter(src))
            cpSync(src, intoFolder ? join(target, posix.basename(path)) : target);
        }
      } else if (keyword === 'RUN') {
        for (const command of args.split('&&').map((c) => c.trim())) {
          const words = command.split(/\s+/);
          if (words[0] === 'npm' && words[1] === 'ci') {
            npmCi.push({ stage: index, dir: at('.'), flags: words.slice(2) });
            symlinkSync(options.nodeModules, join(at('.'), 'node_modules'), 'dir');
          } else if (command !== 'npm cache clean --force') {
            execFileSync('sh', ['-c', command], { cwd: at('.'), stdio: 'pipe' });
          }
        }
      } else if (keyword === 'ENV') {
        const [name = '', value = ''] = args.split('=');
        state.env[name] = value;
      } else if (keyword === 'USER') {
        state.user = args;
      } else if (keyword === 'ENTRYPOINT') {
        state.entrypoint = JSON.parse(args) as string[];
      }
    }
    state.workdir = at('.');
    replayed.push(state);
  });
  return { stages: replayed, npmCi };
}
