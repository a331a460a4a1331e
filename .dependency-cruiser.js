// The layers of lib/, checked by `npm run arch` (part of `npm test`). Arrows point down only:
//
//   index.ts, kubelet-auth.ts, config.ts, options.ts   composition and options
//   authn/ authz/ apiserver/ upgrade/ cli/ testing/    features
//   cache/ metrics/ identity/ responses.ts             wrappers and shared pieces
//   contracts.ts, defaults.ts                          shared interfaces, every default
//   errors, option-errors, user, logger, duration, control-characters, headers,
//   runtime-check                                     leaves
//
// Type-only imports count: a cycle or an upward arrow made of types is still one.

const LEAVES =
  '^lib/(errors|option-errors|user|logger|duration|control-characters|headers|runtime-check)[.]ts$';
const CONTRACTS = '^lib/contracts([.]ts$|/)';
const DEFAULTS = '^lib/defaults[.]ts$';
const LOWER = '^lib/(cache|metrics|identity)/|^lib/responses[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other, directly or through others (type imports included).',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'lower-layers-import-no-feature',
      severity: 'error',
      comment:
        'cache/, metrics/, identity/ and responses.ts depend on the contracts, the defaults, ' +
        'the leaves and each other, never on a feature (authn/, authz/, apiserver/, upgrade/, ' +
        'cli/, testing/) or on the composition (kubelet-auth.ts, config.ts, options.ts, index.ts).',
      from: { path: LOWER },
      to: { path: '^lib/', pathNot: [LOWER, CONTRACTS, DEFAULTS, LEAVES] },
    },
    {
      name: 'contracts-import-only-leaves',
      severity: 'error',
      comment: 'The contracts are what every layer may import, so they import nothing but leaves.',
      from: { path: CONTRACTS },
      to: { path: '^lib/', pathNot: [CONTRACTS, LEAVES] },
    },
    {
      name: 'defaults-import-only-contracts-and-leaves',
      severity: 'error',
      comment: 'Defaults are plain values (typed by the contracts) that any layer may read.',
      from: { path: DEFAULTS },
      to: { path: '^lib/', pathNot: [CONTRACTS, LEAVES] },
    },
    {
      name: 'leaves-import-only-leaves',
      severity: 'error',
      comment: 'A leaf module is imported from everywhere, so it imports only other leaves.',
      from: { path: LEAVES },
      to: { path: '^lib/', pathNot: LEAVES },
    },
    {
      name: 'no-import-of-the-entry-point',
      severity: 'error',
      comment: 'lib/index.ts is the public surface; modules import each other directly.',
      from: { path: '^lib/', pathNot: '^lib/index[.]ts$' },
      to: { path: '^lib/index[.]ts$' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.cts', '.js', '.cjs', '.json'],
    },
  },
};
