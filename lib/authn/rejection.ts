/**
 * Requests whose credentials were presented and refused. The kubelet never lets such a request
 * become anonymous (its anonymous authenticator sits behind a fail-on-error union); with passport
 * strategies, which only know "fail", the refusing strategy marks the request and the anonymous
 * strategy reads the mark. A WeakMap keeps the request object itself untouched.
 */
const rejected = sharedAcrossCopies();

/**
 * The one WeakMap of the process, kept under a registered symbol: the package's ESM and CommonJS
 * builds can both be loaded in one process, and a refusal marked by a strategy of one must still
 * stop the anonymous strategy of the other (fail closed).
 */
function sharedAcrossCopies(): WeakMap<object, string> {
  const registry = globalThis as { [key: symbol]: WeakMap<object, string> | undefined };
  const key = Symbol.for('express-kubelet-auth.rejected-credentials');
  return (registry[key] ??= new WeakMap<object, string>());
}

/** Records that `req` carried credentials that were refused, and why (for logs only). */
export function markCredentialsRejected(req: object, reason: string): void {
  if (!rejected.has(req)) rejected.set(req, reason);
}

/** Why `req`'s credentials were refused, or `undefined` when none were. */
export function credentialsRejection(req: object): string | undefined {
  return rejected.get(req);
}
