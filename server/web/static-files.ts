/**
 * Every file the web side sends from disk: the chat page, its style sheet,
 * the compiled browser scripts, and the dashboard's page and scripts when
 * --admin-token is set.
 */
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC_ROOT = fileURLToPath(new URL('../../../web/static/', import.meta.url));
/** The browser scripts, compiled from web/src (and the shared common/format.ts) by `npm run build`. */
const SCRIPT_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
const JS = 'text/javascript; charset=utf-8';
/** Scripts only the dashboard loads: not served at all without --admin-token. */
const ADMIN_SCRIPTS = new Set(['/js/web/src/admin.js', '/js/web/src/chart.js']);

export interface StaticFile {
  path: string;
  type: string;
}

/**
 * Every file the server will ever send from disk, by URL path: an allow-list
 * built once, so no URL can name anything else (no traversal to think about).
 */
export function staticFiles(admin: boolean): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>([
    ['/', { path: STATIC_ROOT + 'index.html', type: 'text/html; charset=utf-8' }],
    ['/style.css', { path: STATIC_ROOT + 'style.css', type: 'text/css; charset=utf-8' }],
  ]);
  if (admin) files.set('/admin', { path: STATIC_ROOT + 'admin.html', type: 'text/html; charset=utf-8' });
  let scripts: string[] = [];
  try {
    scripts = readdirSync(SCRIPT_ROOT, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
  } catch {
    // Not built: the pages answer 500 "run npm run build" (sendStatic) rather than the server refusing to start.
  }
  for (const rel of scripts) {
    const url = `/js/${rel.split(sep).join('/')}`;
    if (admin || !ADMIN_SCRIPTS.has(url)) files.set(url, { path: join(SCRIPT_ROOT, rel), type: JS });
  }
  for (const url of ['/js/web/src/chat.js', ...(admin ? ADMIN_SCRIPTS : [])]) {
    if (!files.has(url)) files.set(url, { path: join(SCRIPT_ROOT, url.slice('/js/'.length)), type: JS });
  }
  return files;
}
