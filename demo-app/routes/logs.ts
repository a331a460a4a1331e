/**
 * `/logs/`: the node's log folder, served like the kubelet's `http.FileServer` (Go's directory
 * listing, plain-text files, a redirect to add the slash to a directory). The mock serves a
 * demo folder, and nothing outside it: a path with a `..` segment (also when percent-encoded)
 * is refused as Go refuses it (400), and a path that resolves outside the folder, through a
 * symbolic link for example, is a 404.
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { Request, Response, Router } from 'express';
import { TEXT, notFound, onlyMethods, send, sendError } from './http-answers.js';

const PREFIX = '/logs';

export function logsRoutes(logsRoot: string): Router {
  const router = express.Router();
  router.all(/^\/logs(?:\/.*)?$/, onlyMethods('GET'), (req, res, next) => {
    serveLogPath(logsRoot, req, res).catch(next);
  });
  return router;
}

async function serveLogPath(logsRoot: string, req: Request, res: Response): Promise<void> {
  const rawPath = req.path; // still percent-encoded: decoded once below, never twice
  if (rawPath === PREFIX) {
    redirect(res, req, `${PREFIX}/`);
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath.slice(PREFIX.length + 1));
  } catch {
    sendError(res, 400, 'invalid URL escape');
    return;
  }
  const segments = decoded.split('/');
  if (segments.includes('..') || decoded.includes('\0')) {
    sendError(res, 400, 'invalid URL path');
    return;
  }
  const relative = segments.filter((segment) => segment !== '' && segment !== '.');

  const root = await realpath(logsRoot);
  const target = await resolveInside(root, relative);
  if (target === undefined) {
    notFound(req, res);
    return;
  }
  const info = await stat(target);
  const last = relative[relative.length - 1] ?? '';
  if (info.isDirectory()) {
    if (!rawPath.endsWith('/')) {
      redirect(res, req, `${encodeURIComponent(last)}/`);
      return;
    }
    send(res, 200, 'text/html; charset=utf-8', await listing(target));
    return;
  }
  if (!info.isFile()) {
    notFound(req, res);
    return;
  }
  if (rawPath.endsWith('/')) {
    redirect(res, req, `../${encodeURIComponent(last)}`);
    return;
  }
  res.status(200);
  res.setHeader('Content-Type', TEXT);
  res.setHeader('Content-Length', String(info.size));
  res.setHeader('Last-Modified', info.mtime.toUTCString());
  try {
    // The file is closed however the copy ends, a client that leaves mid-file included.
    await pipeline(createReadStream(target), res);
  } catch (error) {
    if (!res.destroyed) throw error;
  }
}

/** The real path of `root/relative`, or `undefined` when it does not exist or lies outside root. */
async function resolveInside(root: string, relative: string[]): Promise<string | undefined> {
  let target: string;
  try {
    target = await realpath(join(root, ...relative));
  } catch {
    return undefined;
  }
  return target === root || target.startsWith(root + sep) ? target : undefined;
}

/** Go's `dirList`: entries sorted by name, directories with a trailing slash. */
async function listing(directory: string): Promise<string> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const links = entries.map((entry) => {
    const name = entry.isDirectory() ? `${entry.name}/` : entry.name;
    const href = name.split('/').map(encodeURIComponent).join('/');
    return `<a href="${href}">${escapeHtml(name)}</a>\n`;
  });
  return `<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n${links.join('')}</pre>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Go's FileServer redirects with a relative Location and keeps the query.
function redirect(res: Response, req: Request, location: string): void {
  const query = req.originalUrl.includes('?')
    ? req.originalUrl.slice(req.originalUrl.indexOf('?'))
    : '';
  res.setHeader('Location', location + query);
  send(
    res,
    301,
    'text/html; charset=utf-8',
    `<a href="${escapeHtml(location + query)}">Moved Permanently</a>.\n\n`,
  );
}
