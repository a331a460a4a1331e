/**
 * The path the kubelet authorizes: Go's decoded `URL.Path` (percent escapes decoded, query
 * dropped), taken from the whole URL the client sent (`originalUrl` inside Express routers).
 * Returns `undefined` for a URL Go would refuse to parse (a bad percent escape), which gets 400.
 */
export function requestPath(req: { url?: string; originalUrl?: string }): string | undefined {
  const url = req.originalUrl ?? req.url ?? '/';
  let raw = url;
  const query = raw.indexOf('?');
  if (query !== -1) raw = raw.slice(0, query);
  const hash = raw.indexOf('#');
  if (hash !== -1) raw = raw.slice(0, hash);
  if (!raw.startsWith('/') && raw !== '*') {
    // Absolute form (`GET http://host/path HTTP/1.1`): the path is what follows the authority.
    try {
      raw = new URL(raw).pathname;
    } catch {
      return undefined;
    }
  }
  return raw.includes('%') ? percentDecode(raw) : raw;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** Go's `unescape` for paths: every `%XX` becomes that byte; `+` stays; a bad escape fails. */
function percentDecode(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch < 0x80) {
      bytes.push(ch);
    } else {
      for (const b of Buffer.from(raw[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
