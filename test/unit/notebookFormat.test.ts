import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  escapeCommentBody,
  NotebookFormatError,
  parseNotebook,
  serializeNotebook,
  unescapeCommentBody,
  type NotebookCell,
  type NotebookFile,
} from '../../src/notebook/format';

const sample = [
  '-- header line',
  '',
  '-- %% default @replica1',
  '-- %% [markdown]',
  '/*',
  '# Replication status',
  'Run on the primary.',
  '*/',
  '',
  '-- %% [sql] @primary',
  'SELECT application_name, state',
  'FROM pg_stat_replication;',
  '',
  '-- %% [sql]',
  'SELECT 1;',
  '',
].join('\n');

test('parses header, default node, Markdown and SQL cells with their targets', () => {
  const nb = parseNotebook(sample);
  assert.equal(nb.header, '-- header line\n');
  assert.equal(nb.defaultTarget, 'replica1');
  assert.deepEqual(nb.cells, [
    { kind: 'markdown', language: 'markdown', source: '# Replication status\nRun on the primary.' },
    { kind: 'code', language: 'sql', source: 'SELECT application_name, state\nFROM pg_stat_replication;', target: 'primary' },
    { kind: 'code', language: 'sql', source: 'SELECT 1;' },
  ]);
});

test('writing a parsed file gives back the same bytes', () => {
  assert.equal(serializeNotebook(parseNotebook(sample)), sample);
});

test('keeps CRLF line endings', () => {
  const crlf = sample.replace(/\n/g, '\r\n');
  const nb = parseNotebook(crlf);
  assert.equal(nb.eol, '\r\n');
  assert.equal(nb.cells[1].source, 'SELECT application_name, state\nFROM pg_stat_replication;');
  assert.equal(serializeNotebook(nb), crlf);
});

test('comment delimiters inside Markdown are escaped losslessly and the file stays one valid comment', () => {
  const tricky = ['*/', '/*', '*\\/', '/\\*', '*/*', '/*/', 'a */ b /* c', '**//', '\\*/\\', '*\\\\/', ''];
  for (const t of tricky) {
    const esc = escapeCommentBody(t);
    assert.ok(!esc.includes('*/') && !esc.includes('/*'), `escaped ${JSON.stringify(t)} = ${JSON.stringify(esc)}`);
    assert.equal(unescapeCommentBody(esc), t);
  }
  const md = 'Close a comment with */ and open one with /*.\n*/\n-- %% [sql] @primary\nnot a cell';
  const nb: NotebookFile = { header: '', eol: '\n', cells: [{ kind: 'markdown', language: 'markdown', source: md }] };
  const text = serializeNotebook(nb);
  assert.deepEqual(parseNotebook(text).cells, nb.cells);
});

test('SQL lines that look like markers are written with one more dash and read back', () => {
  const cells: NotebookCell[] = [
    { kind: 'code', language: 'sql', source: '-- %% [sql] @primary\n--- %% x\nSELECT 1;', target: 'replica2' },
    { kind: 'code', language: 'sql', source: 'SELECT 2;' },
  ];
  const text = serializeNotebook({ header: '', eol: '\n', cells });
  assert.match(text, /^--- %% \[sql\] @primary$/m);
  assert.deepEqual(parseNotebook(text).cells, cells);
});

test('round trip keeps empty cells, trailing newlines, blank lines and other languages', () => {
  const cells: NotebookCell[] = [
    { kind: 'code', language: 'sql', source: '' },
    { kind: 'code', language: 'sql', source: 'SELECT 1;\n' },
    { kind: 'code', language: 'sql', source: '\n\nSELECT 2;\n\n', target: 'all' },
    { kind: 'markdown', language: 'markdown', source: '' },
    { kind: 'markdown', language: 'markdown', source: '\n# t\n\n' },
    { kind: 'code', language: 'plaintext', source: 'notes */ here', target: 'pgbouncer-admin' },
    { kind: 'code', language: 'sql', source: '' },
  ];
  for (const header of ['', '-- h', '-- h\n\n']) {
    for (const defaultTarget of [undefined, 'replica', 'postgres-replica1']) {
      const nb: NotebookFile = { header, eol: '\n', cells, ...(defaultTarget ? { defaultTarget } : {}) };
      const again = parseNotebook(serializeNotebook(nb));
      assert.deepEqual(again, nb);
    }
  }
});

test('random notebooks survive a round trip', () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['SELECT 1;', '', '-- %% [sql]', '--- %%', '/*', '*/', '\\', '*', '/', ' ', 'x', '$$;$$', "'*/'", '\r', '-- %% default @a'];
  const text = () => Array.from({ length: rnd(6) }, () => Array.from({ length: rnd(4) }, () => pieces[rnd(pieces.length)]).join('')).join('\n');
  const targets = [undefined, 'primary', 'replica', 'all', 'postgres-replica2'];
  for (let k = 0; k < 300; k++) {
    const cells: NotebookCell[] = Array.from({ length: rnd(5) }, () => {
      const kind = rnd(2) === 0 ? 'markdown' : 'code';
      const target = targets[rnd(targets.length)];
      return kind === 'markdown'
        ? { kind, language: 'markdown', source: text().replace(/\r/g, '') }
        : { kind, language: 'sql', source: text().replace(/\r/g, ''), ...(target ? { target } : {}) };
    });
    const nb: NotebookFile = { header: '', eol: '\n', cells };
    assert.deepEqual(parseNotebook(serializeNotebook(nb)), nb, JSON.stringify(nb));
  }
});

test('a plain SQL file opens as one SQL cell on the default node', () => {
  const nb = parseNotebook('-- my queries\nSELECT 1;\nSELECT 2;\n');
  assert.equal(nb.header, '-- my queries');
  assert.deepEqual(nb.cells, [{ kind: 'code', language: 'sql', source: 'SELECT 1;\nSELECT 2;' }]);
});

test('an empty file is an empty notebook', () => {
  assert.deepEqual(parseNotebook(''), { header: '', eol: '\n', cells: [] });
  assert.equal(serializeNotebook(parseNotebook('')), '');
});

test('malformed files fail with the line and what to do', () => {
  const cases: [string, number, RegExp][] = [
    ['-- %% [sql] @primary\nSELECT 1;\n-- %% [sql @x\n', 3, /not a valid cell marker/],
    ['-- %% [markdown]\n# no comment\n', 2, /must continue with a line holding only `\/\*`/],
    ['-- %% [markdown]\n/*\n# never closed\n', 2, /never closed/],
    ['-- %% [markdown]\n/*\nx\n*/\nSELECT 1;\n', 5, /text after the end/],
    ['-- %% [markdown] @primary\n/*\nx\n*/\n', 1, /no target node/],
    ['-- %% [sql]\nSELECT 1;\n-- %% default @replica\n', 3, /before the first cell/],
    ['-- %% default @a\n-- %% default @b\n', 2, /set twice/],
    ["-- %% [sql] @bad target\n", 1, /not a (valid )?cell marker/],
  ];
  for (const [text, line, re] of cases) {
    assert.throws(
      () => parseNotebook(text),
      (e: unknown) => e instanceof NotebookFormatError && e.line === line && re.test(e.message),
      JSON.stringify(text),
    );
  }
});

test('the shipped monitoring notebook parses, round-trips, and tags every SQL cell', () => {
  const file = path.join(__dirname, '..', '..', 'cluster', 'monitoring.pgha.sql');
  const text = readFileSync(file, 'utf8');
  const nb = parseNotebook(text);
  assert.equal(serializeNotebook(nb), text);
  const sql = nb.cells.filter((c) => c.kind === 'code');
  assert.ok(sql.length >= 15, `${sql.length} SQL cells`);
  for (const c of sql) assert.ok(c.target, `untagged cell: ${c.source}`);
  // Every SQL cell is explained by the Markdown cell above it (two sibling queries may share one).
  nb.cells.forEach((c, i) => {
    if (c.kind !== 'code') return;
    const above = nb.cells[i - 1]?.kind === 'code' ? nb.cells[i - 2] : nb.cells[i - 1];
    assert.equal(above?.kind, 'markdown', `no explanation before: ${c.source}`);
  });
});
