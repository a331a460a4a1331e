/**
 * Whether a header name is one of `names` or starts with one of `prefixes`, read as the servers
 * behind a proxy may read it: case ignored, and any character but a letter or digit taken for
 * `-`. CGI, WSGI and PHP turn `-` into `_` (some servers every such character), so to them
 * `X_Remote_User` or `x.remote.user` is `X-Remote-User`, merged with or overriding it.
 */
export function identityNameMatcher(
  names: readonly string[],
  prefixes: readonly string[],
): (name: string) => boolean {
  const exact = new Set(names.map(spelling));
  const starts = prefixes.map(spelling);
  return function isIdentityHeader(name: string): boolean {
    const spelled = spelling(name);
    return exact.has(spelled) || starts.some((prefix) => spelled.startsWith(prefix));
  };
}

/** `name` as servers behind may read it: ASCII letters lower-cased, any other but digits `-`. */
function spelling(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '-').toLowerCase();
}
