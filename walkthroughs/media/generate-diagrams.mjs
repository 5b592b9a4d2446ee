import { writeFileSync } from 'node:fs';
// Regenerates the walkthrough diagrams: node walkthroughs/media/generate-diagrams.mjs
const OUT = new URL('./', import.meta.url).pathname;
// Theme-aware where VS Code inlines the SVG (--vscode-* variables). The walkthrough's Markdown
// pages (walkthroughs/) show them as images, where no variable reaches: there the fallbacks apply,
// chosen to read on a light and a dark page alike (mid greys, translucent boxes).
const C = {
  fg: 'var(--vscode-foreground, #8f8f8f)',
  muted: 'var(--vscode-descriptionForeground, #8a8a8a)',
  box: 'var(--vscode-editorWidget-background, rgba(128, 128, 128, 0.12))',
  border: 'var(--vscode-editorWidget-border, #8c8c8c)',
  blue: 'var(--vscode-charts-blue, #1a85ff)',
  green: 'var(--vscode-charts-green, #2ea043)',
  red: 'var(--vscode-charts-red, #e51400)',
  orange: 'var(--vscode-charts-orange, #d18616)',
  purple: 'var(--vscode-charts-purple, #8957e5)',
  bg: 'var(--vscode-welcomePage-background, var(--vscode-editor-background, transparent))',
};
// Labels on lines get a halo of the page background, so a line behind a label never runs through its letters.
const HALO = `stroke="${C.bg}" stroke-width="5" stroke-linejoin="round" paint-order="stroke"`;
// VS Code shows walkthrough SVGs at 80% of the media column (at most 530 px): a narrow canvas keeps text readable.
const W = 460, H = 430;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const POS = { pgbouncer: [230, 60], primary: [230, 180], replica1: [117, 312], replica2: [343, 312], app: [70, 60] };
function node(key, o) {
  const [x, y] = POS[key];
  const w = o.w ?? 172, h = o.h ?? 62;
  const color = C[o.color ?? 'border'];
  const dash = o.down ? ' stroke-dasharray="6 4"' : '';
  const op = o.faded ? ' opacity="0.45"' : '';
  let s = `<g${op}><rect x="${x - w / 2}" y="${y - h / 2}" width="${w}" height="${h}" rx="8" fill="${C.box}" stroke="${color}" stroke-width="${o.down ? 2 : 2.5}"${dash}/>`;
  s += `<text x="${x}" y="${y - 8}" text-anchor="middle" font-size="16" font-weight="600" fill="${C.fg}">${esc(o.title)}</text>`;
  s += `<text x="${x}" y="${y + 15}" text-anchor="middle" font-size="13" fill="${o.subColor ? C[o.subColor] : C.muted}">${esc(o.sub ?? '')}</text>`;
  if (o.down) s += `<path d="M${x - w / 2 + 8} ${y - h / 2 + 8} L${x + w / 2 - 8} ${y + h / 2 - 8} M${x + w / 2 - 8} ${y - h / 2 + 8} L${x - w / 2 + 8} ${y + h / 2 - 8}" stroke="${C.red}" stroke-width="2.5" opacity="0.8"/>`;
  if (o.badge) {
    // Right-aligned on the node's top edge, so it never leaves the canvas.
    const bw = o.badge.length * 8.4 + 14;
    const bx = Math.min(x + w / 2 + 6, W - 2) - bw;
    s += `<g><rect x="${bx}" y="${y - h / 2 - 12}" width="${bw}" height="22" rx="11" fill="${C[o.badgeColor ?? 'green']}"/><text x="${bx + bw / 2}" y="${y - h / 2 + 3}" text-anchor="middle" font-size="12" font-weight="700" fill="#ffffff">${esc(o.badge)}</text></g>`;
  }
  return s + '</g>';
}
function edge(a, b, o = {}) {
  const [x1, y1] = POS[a], [x2, y2] = POS[b];
  const dy = (y2 > y1 ? 1 : -1);
  const sx = x1 + (o.dx1 ?? 0), sy = y1 + dy * 31, ex = x2 + (o.dx2 ?? 0), ey = y2 - dy * 33;
  const color = C[o.color ?? 'blue'];
  const dash = o.dashed ? ' stroke-dasharray="5 4"' : '';
  let s = `<line x1="${sx}" y1="${sy}" x2="${ex}" y2="${ey}" stroke="${color}" stroke-width="${o.width ?? 2.5}"${dash} marker-end="url(#arrow-${o.color ?? 'blue'})"/>`;
  if (o.label) {
    const mx = (sx + ex) / 2 + (o.lx ?? 0), my = (sy + ey) / 2 + (o.ly ?? 0);
    s += `<text x="${mx}" y="${my}" text-anchor="middle" font-size="12.5" font-weight="600" fill="${color}" ${HALO}>${esc(o.label)}</text>`;
  }
  if (o.blocked) {
    const mx = (sx + ex) / 2, my = (sy + ey) / 2;
    s += `<circle cx="${mx}" cy="${my}" r="11" fill="${C.box}" stroke="${C.red}" stroke-width="2.5"/><path d="M${mx - 5} ${my - 5} L${mx + 5} ${my + 5} M${mx + 5} ${my - 5} L${mx - 5} ${my + 5}" stroke="${C.red}" stroke-width="2.5"/>`;
  }
  return s;
}
const markers = () => Object.keys(C).map((k) => `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="${C[k]}"/></marker>`).join('');
function svg(name, title, body, caption) {
  // Caption lines of at most ~58 characters (what 13 px text fits in the 460 wide box): the
  // ' · '-separated parts share a line where they fit; a longer part wraps at word boundaries.
  const MAX = 58;
  const lines = [];
  for (const part of (caption ?? '').split(' · ').filter(Boolean)) {
    if (lines.length && (lines[lines.length - 1] + ' · ' + part).length <= MAX) {
      lines[lines.length - 1] += ' · ' + part;
      continue;
    }
    let line = '';
    for (const word of part.split(' ')) {
      if (line && (line + ' ' + word).length > MAX) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  const cap = lines.map((l, i) => `<text x="${W / 2}" y="${H - 10 - (lines.length - 1 - i) * 17}" text-anchor="middle" font-size="13" fill="${C.muted}">${esc(l)}</text>`).join('');
  const s = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" font-family="var(--vscode-font-family, -apple-system, 'Segoe UI', Ubuntu, sans-serif)" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title><defs>${markers()}</defs>${body}${cap}</svg>\n`;
  writeFileSync(OUT + name, s);
}
const primary = (o = {}) => node('primary', { title: 'postgres-primary', sub: o.sub ?? 'primary · read/write · 5432', color: o.color ?? 'blue', ...o });
const r1 = (o = {}) => node('replica1', { title: 'postgres-replica1', sub: o.sub ?? 'replica · read-only · 5433', color: o.color ?? 'green', ...o });
const r2 = (o = {}) => node('replica2', { title: 'postgres-replica2', sub: o.sub ?? 'replica · read-only · 5434', color: o.color ?? 'green', ...o });
const bouncer = (o = {}) => node('pgbouncer', { title: 'PgBouncer', sub: o.sub ?? 'connection pooler · 6432', color: o.color ?? 'purple', ...o });
const wal = (o = {}) => edge('primary', 'replica1', { label: o.l1 ?? 'WAL', ...o, lx: o.lx1 ?? -28 }) + edge('primary', 'replica2', { label: o.l2 ?? 'WAL', ...o, lx: o.lx2 ?? 28 });
const cluster = (o = {}) => bouncer(o.bouncer) + edge('pgbouncer', 'primary', { color: 'purple', ...(o.be ?? {}) }) + primary(o.primary) + r1(o.r1) + r2(o.r2) + (o.noWal ? '' : wal(o.wal));

// 1 prerequisites: a checklist
{
  let b = '';
  const rows = [['Docker engine reachable', 'docker info'], ['Docker Compose available', 'docker compose / docker-compose'], ['Ports free on 127.0.0.1', '5432 · 5433 · 5434 · 6432']];
  rows.forEach(([t, d], i) => {
    const y = 80 + i * 90;
    b += `<rect x="20" y="${y - 34}" width="420" height="68" rx="8" fill="${C.box}" stroke="${C.border}" stroke-width="2"/>`;
    // An empty box: the static picture must not look as if something was checked already.
    b += `<rect x="44" y="${y - 16}" width="32" height="32" rx="6" fill="none" stroke="${C.muted}" stroke-width="2.5"/><text x="60" y="${y + 6}" text-anchor="middle" font-size="16" font-weight="700" fill="${C.muted}">${i + 1}</text>`;
    b += `<text x="95" y="${y - 4}" font-size="17" font-weight="600" fill="${C.fg}">${esc(t)}</text><text x="95" y="${y + 18}" font-size="13" fill="${C.muted}">${esc(d)}</text>`;
  });
  svg('01-prerequisites.svg', 'Prerequisites: Docker, Compose, free ports', b, 'Each failed check says how to fix it');
}
svg('02-start.svg', 'Start the cluster', cluster({ wal: { l1: 'pg_basebackup', l2: 'pg_basebackup', dashed: true } }), 'docker compose up -d · healthy in 30-60 s (measured)');
svg('03-verify.svg', 'Verify replication', cluster({ r1: { badge: 'in recovery' }, r2: { badge: 'in recovery' }, primary: { badge: '2 replicas', badgeColor: 'blue' }, wal: { l1: 'streaming', l2: 'streaming', lx1: -62, lx2: 62 } }), 'test-replication.sh: 2 replicas · in recovery · row replicated · replica read-only');
{
  const b = bouncer({ faded: true }) + primary({ badge: 'INSERT', badgeColor: 'blue' }) + r1({ badge: 'row < 1 s' }) + r2({ badge: 'row < 1 s' }) + wal({ l1: 'WAL', l2: 'WAL' }) +
    `<line x1="117" y1="392" x2="117" y2="347" stroke="${C.red}" stroke-width="2.5" marker-end="url(#arrow-red)"/>` +
    `<circle cx="117" cy="372" r="11" fill="${C.box}" stroke="${C.red}" stroke-width="2.5"/><path d="M112 367 L122 377 M122 367 L112 377" stroke="${C.red}" stroke-width="2.5"/>` +
    `<text x="136" y="377" font-size="13.5" font-weight="600" fill="${C.red}">INSERT on replica1 → refused: read-only</text>`;
  svg('04-demo1.svg', 'Demo 1: basic replication', b, 'Writes on the primary, reads on the replicas · a write to a replica is refused');
}
{
  const b = node('app', { title: 'application', sub: 'writes · reads', color: 'orange', w: 120 }) + bouncer({ faded: true }) + primary() + r1({ badge: '20 reads' }) + r2({ badge: '20 reads' }) + wal() +
    `<path d="M70 92 L70 180 L142 180" fill="none" stroke="${C.blue}" stroke-width="2.5" marker-end="url(#arrow-blue)"/><text x="76" y="170" font-size="13" font-weight="600" fill="${C.blue}">writes</text>` +
    `<path d="M18 92 L18 312 L29 312" fill="none" stroke="${C.green}" stroke-width="2.5" marker-end="url(#arrow-green)"/><text x="22" y="250" font-size="13" font-weight="600" fill="${C.green}">reads</text>` +
    `<path d="M18 312 L18 385 L440 385 L440 312 L431 312" fill="none" stroke="${C.green}" stroke-width="2.5" stroke-dasharray="5 4" marker-end="url(#arrow-green)"/>`;
  svg('05-demo2.svg', 'Demo 2: read scaling', b, '');
}
svg('06-demo3.svg', 'Demo 3: replication lag monitoring', cluster({ bouncer: { faded: true }, primary: { badge: 'pg_stat_replication', badgeColor: 'blue' }, wal: { l1: 'lag < 100 ms', l2: 'async' }, r1: { badge: 'replay_lag' }, r2: { badge: 'replay_lag' } }), 'Monitoring notebook + lag view · sampled under a write load');
{
  const b = bouncer({ sub: 'repointed → replica1' }) +
    `<path d="M144 60 L14 60 L14 312 L29 312" fill="none" stroke="${C.purple}" stroke-width="2.5" marker-end="url(#arrow-purple)"/><text x="20" y="52" font-size="13" font-weight="600" fill="${C.purple}">RELOAD</text>` +
    primary({ down: true, sub: 'docker stop · down', subColor: 'red', color: 'red' }) +
    r1({ badge: 'PROMOTED', badgeColor: 'blue', sub: 'new primary · 5433', color: 'blue' }) + r2() +
    `<line x1="204" y1="312" x2="255" y2="312" stroke="${C.blue}" stroke-width="2.5" marker-end="url(#arrow-blue)"/><text x="230" y="334" text-anchor="middle" font-size="13" font-weight="600" fill="${C.blue}">WAL</text>`;
  svg('07-demo4.svg', 'Demo 4: primary failure and manual failover', b, 'RTO = first failed write → first write on the new primary · RPO = acknowledged writes lost');
}
svg('08-demo5.svg', 'Demo 5: replication lag under load', cluster({ bouncer: { faded: true }, primary: { badge: '100 rows × 10 at a time', badgeColor: 'orange' }, wal: { l1: 'lag ↑ then 0', l2: 'lag ↑ then 0', width: 5, color: 'orange' }, r1: { badge: 'catching up', badgeColor: 'orange' }, r2: { badge: 'catching up', badgeColor: 'orange' } }), 'Peak lag in bytes, then the time to catch up');
{
  const b = bouncer({ faded: true }) + primary({ color: 'red', sub: 'docker start · ALSO primary', subColor: 'red', badge: 'FENCE', badgeColor: 'red' }) +
    r1({ color: 'blue', sub: 'primary · timeline 2', badge: 'primary', badgeColor: 'blue' }) + r2() +
    `<line x1="204" y1="312" x2="255" y2="312" stroke="${C.blue}" stroke-width="2.5" marker-end="url(#arrow-blue)"/>` +
    edge('replica1', 'primary', { color: 'green', dashed: true, label: 'pg_rewind → rejoin', lx: -70, dx1: 10, dx2: -40 }) +
    `<text x="230" y="385" text-anchor="middle" font-size="15" font-weight="700" fill="${C.red}">both: pg_is_in_recovery() = false</text>`;
  svg('09-demo6.svg', 'Demo 6: split brain', b, 'Reproduce · detect · fence the old primary · rejoin it as a replica');
}
{
  let b = '';
  for (let i = 0; i < 4; i++) b += `<rect x="${8 + i * 22}" y="${30 + (i % 2) * 10}" width="16" height="26" rx="4" fill="${C.box}" stroke="${C.orange}" stroke-width="2"/>`;
  b += `<text x="48" y="92" text-anchor="middle" font-size="13" fill="${C.orange}" font-weight="600">20 clients</text>`;
  b += `<line x1="100" y1="52" x2="141" y2="58" stroke="${C.orange}" stroke-width="2.5" marker-end="url(#arrow-orange)"/>`;
  b += bouncer({ badge: 'SHOW POOLS · STATS', badgeColor: 'purple' }) + edge('pgbouncer', 'primary', { color: 'purple', label: '1 server connection', lx: 72 }) + primary() + r1({ faded: true }) + r2({ faded: true }) + wal();
  svg('10-demo7.svg', 'Demo 7: connection pooling with PgBouncer', b, 'Connections reused · after a failover, PgBouncer follows the new primary');
}
svg('11-cleanup.svg', 'Cleanup', cluster({ bouncer: { faded: true }, primary: { faded: true }, r1: { faded: true }, r2: { faded: true }, wal: { dashed: true, color: 'muted' }, be: { dashed: true, color: 'muted' } }) + `<rect x="110" y="226" width="240" height="36" rx="6" fill="${C.box}" stroke="${C.border}" stroke-width="1.5"/><text x="230" y="250" text-anchor="middle" font-size="18" font-weight="700" fill="${C.fg}">docker compose down [-v]</text>`, 'down keeps the data volumes; down -v removes them');
console.log('ok');
