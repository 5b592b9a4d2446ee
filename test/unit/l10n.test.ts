// The Bahasa Indonesia bundle (l10n/bundle.l10n.id.json) against the source: every message the
// extension passes to vscode.l10n.t (directly, or through `const t = vscode.l10n.t`) must be a key
// of the bundle, or the Indonesian workshop sees English; every translation must keep its key's
// {0}, {1}… placeholders, or VS Code shows a raw "{1}" or drops an argument.
// The calls are found on the TypeScript syntax tree, so a literal on the next line, escapes
// ('\n', "\"") and the object form t({ message }) read as VS Code reads them, and a local `t` that
// is something else (a topology, a timestamp) is not mistaken for the l10n one.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'l10n', 'bundle.l10n.id.json');

interface Message {
  key: string;
  where: string; // src/…/file.ts:line
}

interface Scan {
  messages: Message[];
  /** Calls whose message is not a literal (a variable, a template with ${…}): no key to look up. */
  dynamic: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** `vscode.l10n.t` or `l10n.t` (the named import `import { l10n } from 'vscode'`). */
function isL10nT(e: ts.Expression): boolean {
  if (!ts.isPropertyAccessExpression(e) || e.name.text !== 't') return false;
  const o = e.expression;
  return (ts.isIdentifier(o) && o.text === 'l10n') || (ts.isPropertyAccessExpression(o) && o.name.text === 'l10n');
}

/** A declaration of the name `t`, if `node` declares one (variable, parameter, function, import). */
function declaresT(node: ts.Node): ts.Node | undefined {
  const named = (n: ts.BindingName | ts.Identifier | undefined): boolean => {
    if (!n) return false;
    if (ts.isIdentifier(n)) return n.text === 't';
    return n.elements.some((el) => !ts.isOmittedExpression(el) && named(el.name));
  };
  if (ts.isVariableDeclaration(node) && named(node.name)) return node;
  if (ts.isParameter(node) && named(node.name)) return node;
  if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === 't') return node;
  if (ts.isImportSpecifier(node) && node.name.text === 't') return node;
  if (ts.isImportClause(node) && node.name?.text === 't') return node;
  if (ts.isNamespaceImport(node) && node.name.text === 't') return node;
  return undefined;
}

/** The declaration `t` resolves to at `use`: the nearest enclosing scope that declares it. */
function resolveT(use: ts.Node): ts.Node | undefined {
  for (let scope: ts.Node | undefined = use.parent; scope; scope = scope.parent) {
    const isScope = ts.isSourceFile(scope) || ts.isBlock(scope) || ts.isModuleBlock(scope) || ts.isFunctionLike(scope)
      || ts.isForStatement(scope) || ts.isForOfStatement(scope) || ts.isForInStatement(scope) || ts.isCatchClause(scope)
      || ts.isCaseBlock(scope);
    if (!isScope) continue;
    let found: ts.Node | undefined;
    const look = (n: ts.Node): void => {
      if (found) return;
      const d = declaresT(n);
      if (d) { found = d; return; }
      // Declarations of this scope only: not those inside nested functions or blocks
      // (`var` hoisting aside, which the source does not use for t).
      if (n !== scope && (ts.isFunctionLike(n) || ts.isBlock(n) || ts.isClassLike(n))) return;
      ts.forEachChild(n, look);
    };
    if (ts.isFunctionLike(scope)) {
      if (scope.name && ts.isIdentifier(scope.name) && scope.name.text === 't' && ts.isFunctionExpression(scope)) return scope;
      scope.parameters.forEach(look);
    } else if (ts.isCatchClause(scope)) {
      if (scope.variableDeclaration) look(scope.variableDeclaration);
    } else if (ts.isForStatement(scope) || ts.isForOfStatement(scope) || ts.isForInStatement(scope)) {
      if (scope.initializer) look(scope.initializer);
    } else {
      ts.forEachChild(scope, look);
    }
    if (found) return found;
  }
  return undefined;
}

/** Whether this declaration of `t` is vscode.l10n.t: `const t = vscode.l10n.t`, `const { t } = vscode.l10n`, `import { t } from …l10n`. */
function isL10nDeclaration(d: ts.Node | undefined): boolean {
  if (!d) return false;
  if (ts.isVariableDeclaration(d) && d.initializer) {
    if (ts.isIdentifier(d.name)) return isL10nT(d.initializer);
    if (ts.isObjectBindingPattern(d.name)) {
      const i = d.initializer;
      const fromL10n = (ts.isIdentifier(i) && i.text === 'l10n') || (ts.isPropertyAccessExpression(i) && i.name.text === 'l10n');
      return fromL10n && d.name.elements.some((el) => ts.isIdentifier(el.name) && el.name.text === 't' && (el.propertyName === undefined || (ts.isIdentifier(el.propertyName) && el.propertyName.text === 't')));
    }
  }
  if (ts.isImportSpecifier(d)) {
    const from = d.parent.parent.parent.moduleSpecifier;
    return ts.isStringLiteral(from) && /l10n/.test(from.text) && (d.propertyName ?? d.name).text === 't';
  }
  return false;
}

/** The message of a call's first argument: a literal ('…', "…", `…` without ${}), or t({ message: literal }). */
function messageOf(arg: ts.Expression | undefined): string | undefined {
  if (!arg) return undefined;
  while (ts.isParenthesizedExpression(arg) || ts.isAsExpression(arg) || ts.isSatisfiesExpression(arg)) arg = arg.expression;
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return arg.text; // .text is the unescaped value
  if (ts.isObjectLiteralExpression(arg)) {
    const p = arg.properties.find((q) => ts.isPropertyAssignment(q) && (ts.isIdentifier(q.name) || ts.isStringLiteral(q.name)) && q.name.text === 'message');
    return p && ts.isPropertyAssignment(p) ? messageOf(p.initializer) : undefined;
  }
  return undefined;
}

function scan(): Scan {
  const out: Scan = { messages: [], dynamic: [] };
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const callee = n.expression;
        const isT = isL10nT(callee) || (ts.isIdentifier(callee) && callee.text === 't' && isL10nDeclaration(resolveT(callee)));
        if (isT) {
          const where = `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
          const key = messageOf(n.arguments[0]);
          if (key === undefined) out.dynamic.push(`${where}: ${n.getText(sf).slice(0, 80)}`);
          else out.messages.push({ key, where });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

function loadBundle(): Record<string, string> {
  return JSON.parse(readFileSync(BUNDLE, 'utf8')) as Record<string, string>;
}

const placeholders = (s: string): string[] => [...new Set(s.match(/\{\d+\}/g) ?? [])].sort();

test('l10n scan: finds the workshop\'s messages (multi-line calls, escapes) and skips a `t` that is not vscode.l10n.t', () => {
  const { messages } = scan();
  const keys = new Set(messages.map((m) => m.key));
  assert.ok(messages.length > 200, `only ${messages.length} l10n.t calls found under src/: the scan is broken`);
  // A literal on the line after `vscode.l10n.t(` (src/notebook/serializer.ts).
  assert.ok([...keys].some((k) => k.startsWith('This PG HA Workshop notebook cannot be opened: {0}.')));
  // '\n' in the source is a newline in the key, as VS Code looks it up.
  assert.ok(keys.has('# Workshop notebook\n\nEach SQL cell runs on the node shown in its status bar (click it to change). Save the file with a name ending in .pgha.sql.'));
  // No file without an l10n `t` contributes: src/docker/compose.ts has `t: ClusterTopology` parameters.
  assert.ok(!messages.some((m) => m.where.startsWith('src/docker/') || m.where.startsWith('src/core/')), 'a `t` that is not vscode.l10n.t was scanned');
});

test('l10n: every vscode.l10n.t message under src/ has a Bahasa Indonesia translation in l10n/bundle.l10n.id.json', () => {
  const bundle = loadBundle();
  const { messages, dynamic } = scan();
  assert.deepEqual(dynamic, [], `vscode.l10n.t called with a message that is not a literal (no bundle key can match it):\n  ${dynamic.join('\n  ')}`);
  const missing = new Map<string, string[]>();
  for (const m of messages) {
    if (Object.prototype.hasOwnProperty.call(bundle, m.key)) continue;
    missing.set(m.key, [...(missing.get(m.key) ?? []), m.where]);
  }
  const list = [...missing].map(([k, where]) => `  ${JSON.stringify(k)}  (${where.join(', ')})`);
  assert.equal(missing.size, 0, `${missing.size} message(s) have no entry in l10n/bundle.l10n.id.json:\n${list.join('\n')}`);
});

test('l10n: every Indonesian translation keeps exactly its key\'s {0}, {1}… placeholders; no empty value, no duplicate key', () => {
  const raw = readFileSync(BUNDLE, 'utf8');
  const bundle = loadBundle();
  const wrong = Object.entries(bundle)
    .filter(([k, v]) => typeof v !== 'string' || v.trim() === '' || placeholders(k).join() !== placeholders(v).join())
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}  (key ${placeholders(k).join(' ') || 'none'}, value ${typeof v === 'string' ? placeholders(v).join(' ') || 'none' : typeof v})`);
  assert.equal(wrong.length, 0, `${wrong.length} translation(s) do not keep their key's placeholders (or are empty):\n${wrong.join('\n')}`);
  // JSON.parse keeps the last of two equal keys: a duplicate silently loses a translation.
  const keysInText = [...raw.matchAll(/^ {2}("(?:[^"\\]|\\.)*")\s*:/gm)].map((m) => JSON.parse(m[1]) as string);
  const seen = new Set<string>();
  const dups = keysInText.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
  assert.deepEqual(dups, [], 'duplicate keys in l10n/bundle.l10n.id.json');
  assert.equal(keysInText.length, Object.keys(bundle).length, 'l10n/bundle.l10n.id.json: one key per line, two-space indent');
});
