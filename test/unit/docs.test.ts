/**
 * docs/ARCHITECTURE.md stays true about where things are: every file it names
 * exists. In the map (the first code block) a name is resolved against the
 * folder it is listed under, or one of that folder's parents; elsewhere a name
 * must be the tail of some file's path in the tree (`connection.ts` in a
 * section about LFTP names one of the connection.ts files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';

const DOC = 'docs/ARCHITECTURE.md';
const FILE_NAME = /(?:[\w.-]+\/)*[\w-]+(?:\.[\w-]+)*\.(?:ts|mjs|js|lua|md|json|html|css|sh)\b/g;
const SKIP = new Set(['node_modules', 'dist', '.git', 'test/artifacts', 'logs', 'data']);

function treeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (SKIP.has(path) || SKIP.has(e.name)) continue;
      if (e.isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk('');
  return out.map((f) => f.split(sep).join('/'));
}

const FILES = treeFiles();
const EXISTING = new Set(FILES);

/** A name as the source it stands for: compiled paths (dist/…/x.js) name their .ts. */
function sourceName(name: string): string {
  return name.startsWith('dist/') ? name.slice('dist/'.length).replace(/\.js$/, '.ts') : name;
}

function existsUnder(name: string, folders: string[]): boolean {
  const n = sourceName(name);
  return EXISTING.has(n) || folders.some((f) => EXISTING.has(`${f}${n}`));
}

function namedAnywhere(name: string): boolean {
  const n = sourceName(name);
  return FILES.some((f) => f === n || f.endsWith(`/${n}`));
}

/** The map: indentation gives the folder each line is under (two spaces a level). */
function mapNames(lines: string[]): Array<{ line: number; name: string; folders: string[] }> {
  const out: Array<{ line: number; name: string; folders: string[] }> = [];
  const stack: Array<{ indent: number; path: string }> = [];
  lines.forEach((text, i) => {
    const entry = /^( *)(\S+)/.exec(text);
    if (!entry) return;
    const indent = entry[1]!.length;
    // A description's continuation line sits far right: it belongs to the entry above.
    const continuation = indent >= 20;
    if (!continuation) while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const here = stack.length ? stack[stack.length - 1]!.path : '';
    const first = entry[2]!;
    // A folder's own line describes what is in it: its names resolve inside it.
    if (!continuation && first.endsWith('/')) stack.push({ indent, path: here + first });
    const folders = stack.map((s) => s.path).reverse();
    for (const m of text.matchAll(FILE_NAME)) out.push({ line: i + 1, name: m[0], folders });
  });
  return out;
}

describe(`${DOC} names only files that exist`, () => {
  const doc = readFileSync(join(ROOT, DOC), 'utf8');
  const lines = doc.split('\n');
  const mapStart = lines.findIndex((l) => l.startsWith('```'));
  const mapEnd = lines.findIndex((l, i) => i > mapStart && l.startsWith('```'));

  it('the map', () => {
    expect(mapStart).toBeGreaterThanOrEqual(0);
    const names = mapNames(lines.slice(mapStart + 1, mapEnd));
    expect(names.length).toBeGreaterThan(100);
    const missing = names
      .filter(({ name, folders }) => !existsUnder(name, folders))
      .map(({ line, name }) => `line ${mapStart + 1 + line}: ${name}`);
    expect(missing).toEqual([]);
  });

  it('the prose', () => {
    const missing: string[] = [];
    lines.forEach((text, i) => {
      if (i >= mapStart && i <= mapEnd) return;
      for (const m of text.matchAll(FILE_NAME)) if (!namedAnywhere(m[0])) missing.push(`line ${i + 1}: ${m[0]}`);
    });
    expect(missing).toEqual([]);
  });
});
