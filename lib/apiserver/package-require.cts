/**
 * `require` as the package's own files see it, in both builds (this file is CommonJS in each,
 * where `import.meta` does not exist): it resolves the peer dependencies installed next to the
 * package, and loads an ES module synchronously where the runtime can (`require(esm)`).
 */
export = require;
