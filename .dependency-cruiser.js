// The layers of lib/, checked by `npm run arch` (part of `npm test`). Arrows point down only:
//
//   index.ts, kubelet.ts, parts.ts                     the entry points (with testing/index.ts,
//                                                      metrics/prometheus.ts and fastify/index.ts)
//   kubelet-auth.ts, fastify/, config.ts, options.ts   composition (the Express and Fastify
//                                                      adapters) and options
//   authn/ authz/ apiserver/ upgrade/ cli/ testing/    features
//   cache/ metrics/ identity/ responses.ts             wrappers and shared pieces
//   contracts.ts, defaults.ts                          shared interfaces, every default
//   errors, option-errors, user, logger, duration, control-characters, headers,
//   unread-body, expect-continue, runtime-check       leaves
//
// Type-only imports count: a cycle or an upward arrow made of types is still one.

const LEAVES =
  '^lib/(errors|option-errors|user|logger|duration|control-characters|headers|unread-body|expect-continue|runtime-check)[.]ts$';
const CONTRACTS = '^lib/contracts([.]ts$|/)';
const DEFAULTS = '^lib/defaults[.]ts$';
const LOWER = '^lib/(cache|metrics|identity)/|^lib/responses[.]ts$';
/** What package.json's `exports` point at. */
const ENTRY_POINTS =
  '^lib/(index|kubelet|parts|testing/index|metrics/prometheus|fastify/index)[.]ts$';

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
      name: 'features-import-no-composition',
      severity: 'error',
      comment:
        'A feature (authn/, authz/, apiserver/, upgrade/, cli/, testing/) is composed, never ' +
        'composes: it imports no composition module (kubelet-auth.ts, config.ts, options.ts, ' +
        'option-names.ts, compose/, fastify/).',
      from: { path: '^lib/(authn|authz|apiserver|upgrade|cli|testing)/' },
      to: { path: '^lib/(kubelet-auth|config|options|option-names)[.]ts$|^lib/(compose|fastify)/' },
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
      comment: 'The entry points are the public surface; modules import each other directly.',
      from: { path: '^lib/', pathNot: ENTRY_POINTS },
      to: { path: ENTRY_POINTS },
    },
    {
      name: 'only-the-fastify-adapter-imports-fastify',
      comment:
        'fastify and fastify-plugin are optional peers: only lib/fastify/ (the ' +
        'express-kubelet-auth/fastify entry point) may import them, so no other entry point ' +
        'loads them.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/fastify/' },
      to: { path: 'node_modules/(fastify|fastify-plugin)/' },
    },
    {
      name: 'demo-app-uses-the-public-entry-points',
      severity: 'error',
      comment:
        'demo-app/ is a user of the package: it imports it by name (express-kubelet-auth, ' +
        '/kubelet, /parts, /testing, /metrics), which tsconfig paths map to the entry points, ' +
        'never a file of lib/ by a relative path.',
      from: { path: '^demo-app/' },
      to: { path: '^lib/', dependencyTypesNot: ['aliased-tsconfig-paths'] },
    },
    {
      name: 'demo-app-reaches-only-entry-points',
      severity: 'error',
      comment: 'What demo-app/ imports from the package is one of its entry points.',
      from: { path: '^demo-app/' },
      to: { path: '^lib/', pathNot: ENTRY_POINTS },
    },
    {
      name: 'lib-imports-no-demo-app',
      severity: 'error',
      comment: 'The package does not depend on its demo.',
      from: { path: '^lib/' },
      to: { path: '^demo-app/' },
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
