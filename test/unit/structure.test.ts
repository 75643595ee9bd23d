/**
 * The code's shape, checked: limits the architecture document promises
 * (docs/ARCHITECTURE.md, "Rules of the layout"). Parsed with the TypeScript
 * compiler, so a function's length is its real extent, not a regex's guess.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/processes.js';

const MAX_FUNCTION_LINES = 80;
const MAX_MODULE_LINES = 300;
/** A program's entry may load any folder (loading only what the command needs); nothing imports it. */
const ENTRIES = new Set(['server/cli.ts', 'client/cli.ts']);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f).split(sep).join('/'));
}

const CODE = [...sources('server'), ...sources('client'), ...sources('common'), ...sources('web/src')];

function folderOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
}

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

/** Every function-like node longer than the limit, as "file:line name (N lines)". */
function longFunctions(file: string): string[] {
  const sf = parse(file);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_FUNCTION_LINES) out.push(`${file}:${start + 1} ${functionName(node)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function imports(file: string): string[] {
  const sf = parse(file);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('the layout keeps its rules', () => {
  it(`no function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    expect(CODE.flatMap(longFunctions)).toEqual([]);
  });

  it(`no module is longer than ${MAX_MODULE_LINES} lines`, () => {
    const long = CODE.map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_MODULE_LINES)
      .map(({ f, lines }) => `${f} (${lines} lines)`);
    expect(long).toEqual([]);
  });

  it('no two folders import each other, and common/ imports neither program', () => {
    const edges = new Set<string>();
    for (const f of CODE.filter((f) => !ENTRIES.has(f)))
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const from = folderOf(f);
        const to = folderOf(join(f, '..', spec).split(sep).join('/'));
        if (from !== to) edges.add(`${from} -> ${to}`);
      }
    const both = [...edges].filter((e) => {
      const [from, to] = e.split(' -> ');
      return from! < to! && edges.has(`${to} -> ${from}`);
    });
    const upward = [...edges].filter((e) => /^common\/?.* -> (server|client)/.test(e));
    expect([...both.map((e) => `both ways: ${e.replace(' -> ', ' <-> ')}`), ...upward]).toEqual([]);
  });

  it('every error class comes from the one base (common/errors.ts), so every one has a stable code', () => {
    const direct = CODE.filter((f) => f !== 'common/errors.ts').filter((f) =>
      /class \w+ extends (Error|TypeError|RangeError)\b/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(direct).toEqual([]);
  });

  it('the LFTP engine is pure: no sockets, files or timers', () => {
    const engine = CODE.filter((f) => f.startsWith('common/lftp/engine/'));
    expect(engine.length).toBeGreaterThan(5);
    const bad: string[] = [];
    for (const f of engine) {
      for (const spec of imports(f))
        if (/^node:(dgram|net|fs|fs\/promises|timers|timers\/promises|worker_threads)$/.test(spec))
          bad.push(`${f} imports ${spec}`);
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const timer of ['setTimeout', 'setInterval', 'setImmediate', 'Date.now', 'performance.now'])
        if (text.includes(timer)) bad.push(`${f} uses ${timer}`);
    }
    expect(bad).toEqual([]);
  });

  it('the supervisor (server/process/) loads no worker module', () => {
    const bad = CODE.filter((f) => f.startsWith('server/process/')).flatMap((f) =>
      imports(f)
        .filter((spec) => spec.startsWith('.') && join(f, '..', spec).split(sep).join('/').startsWith('server/worker/'))
        .map((spec) => `${relative('.', f)} imports ${spec}`),
    );
    expect(bad).toEqual([]);
  });
});
