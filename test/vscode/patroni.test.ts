// Demo 8's cluster inside a real extension host: Start Patroni Cluster (one click) on the ports the
// workshop cluster frees, the Patroni view showing what `patronictl list` shows (members, roles,
// state, timeline, lag), the etcd quorum with the leader lock and its holder, Patroni's settings;
// then a switchover and a live timing profile through the view's commands (Patroni's REST API),
// Demo 8 (the leader killed under load, Patroni electing a new one), and Stop Patroni Cluster.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { PatroniTreeElement } from '../../src/patroni/tree';
import type { PatroniFeature } from '../../src/patroni';
import { clusterDown } from '../support/cluster';
import { ensurePatroniImage } from '../support/patroniCluster';
import { activateExtension, clusterUpWithRetry } from './host';

interface Outcome<T = unknown> {
  ok: boolean;
  message?: string;
  value?: T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

suite('Patroni (Demo 8)', function () {
  this.timeout(1_200_000);
  let feature: PatroniFeature;

  /** label + description of every child of a section of the Patroni view. */
  async function section(id: 'members' | 'dcs' | 'settings' | 'history'): Promise<{ label: string; description: string }[]> {
    const top = (await feature.tree.getChildren()) ?? [];
    const sec = top.find((e) => e.kind === 'section' && e.id === id);
    assert.ok(sec, `the view has a ${id} section (top: ${JSON.stringify(top)})`);
    const rows: { label: string; description: string }[] = [];
    for (const e of ((await feature.tree.getChildren(sec)) ?? []) as PatroniTreeElement[]) {
      const item = feature.tree.getTreeItem(e);
      rows.push({ label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), description: String(item.description ?? '') });
    }
    return rows;
  }

  async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await sleep(1000);
    }
  }

  const leaderRow = async () => (await section('members')).find((r) => /^Leader/.test(r.description));

  suiteSetup(async () => {
    const services = await activateExtension();
    feature = (services as unknown as { patroni: PatroniFeature }).patroni;
    assert.ok(feature, 'the Patroni feature is registered');
    ensurePatroniImage();
    await clusterUpWithRetry();
    await vscode.workspace.getConfiguration('pgHaWorkshop').update('patroniImage', 'pgha-patroni-local:15', vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('pgHaWorkshop.patroni.stopCluster', { volumes: true });
    await vscode.workspace.getConfiguration('pgHaWorkshop').update('patroniImage', undefined, vscode.ConfigurationTarget.Global);
  });

  test('Start Patroni Cluster while the workshop cluster is there: refused with what to do, nothing started, the view still offers to start it', async () => {
    try {
      const r = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.startCluster')) as Outcome;
      assert.strictEqual(r.ok, false);
      assert.match(r.message ?? '', /postgres-primary.*Stop Cluster first/);
      // The view renders after its next poll: nothing of the Patroni cluster exists, so the tree is
      // empty and the view shows its welcome (Start Patroni Cluster), not etcd members "down".
      await until('the view empty (its welcome content)', async () => {
        await vscode.commands.executeCommand('pgHaWorkshop.patroni.refresh');
        const top = await feature.tree.getChildren();
        return feature.tree.current && top?.length === 0 ? true : undefined;
      });
    } finally {
      // The learner's path: the workshop cluster stopped, then the Patroni cluster on the same ports.
      await clusterDown(undefined, { volumes: true });
    }
  });

  test('Start Patroni Cluster: one leader, two streaming replicas; the view shows the members, the etcd quorum and lock, the settings', async () => {
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.startCluster')) as Outcome<{ leader: string; seconds: number }>;
    assert.strictEqual(r.ok, true, r.message);
    const leader = r.value!.leader;
    await vscode.commands.executeCommand('pgHaWorkshop.patroni.refresh');
    const members = await until('three members, two of them replicas streaming (Patroni 3.0 says "running", later versions "streaming")', async () => {
      const m = await section('members');
      return m.length === 3 && m.filter((x) => /^(Replica|Sync Standby) · (streaming|running)/.test(x.description)).length === 2 ? m : undefined;
    });
    assert.deepStrictEqual(members.map((m) => m.label).sort(), ['postgres-primary', 'postgres-replica1', 'postgres-replica2']);
    const l = members.find((m) => m.label === leader);
    assert.ok(l && /^Leader · running · TL \d+/.test(l.description), `the leader's row: ${JSON.stringify(l)}`);
    for (const m of members.filter((x) => x.label !== leader)) assert.match(m.description, /TL \d+ · lag /);

    const dcs = await section('dcs');
    assert.deepStrictEqual(dcs.filter((d) => /^etcd/.test(d.label)).map((d) => [d.label, d.description.startsWith('healthy')]), [
      ['etcd1', true],
      ['etcd2', true],
      ['etcd3', true],
    ]);
    const lock = dcs.find((d) => d.label === 'Leader lock');
    assert.ok(lock && lock.description.startsWith(`${leader} · `), `the lock row names the leader: ${JSON.stringify(lock)}`);

    const settings = Object.fromEntries((await section('settings')).map((s) => [s.label, s.description]));
    assert.strictEqual(settings.ttl, '30 s');
    assert.strictEqual(settings.loop_wait, '10 s');
    assert.strictEqual(settings.retry_timeout, '10 s');
  });

  test('Switchover to a replica through Patroni: the view shows the new leader, the old one a replica', async () => {
    const old = (await leaderRow())!.label;
    const candidate = old === 'postgres-replica1' ? 'postgres-replica2' : 'postgres-replica1';
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.switchover', candidate, {})) as Outcome;
    assert.strictEqual(r.ok, true, r.message);
    await until(`${candidate} shown as the leader and ${old} streaming`, async () => {
      await vscode.commands.executeCommand('pgHaWorkshop.patroni.refresh');
      const m = await section('members');
      const ok = m.find((x) => x.label === candidate)?.description.startsWith('Leader') && /^(Replica|Sync Standby) · (streaming|running)/.test(m.find((x) => x.label === old)?.description ?? '');
      return ok ? true : undefined;
    });
    // A refused request is a clear message, and nothing changes.
    const bad = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.switchover', 'no-such-member', {})) as Outcome;
    assert.strictEqual(bad.ok, false);
    assert.match(bad.message ?? '', /no-such-member/);
    assert.strictEqual((await leaderRow())?.label, candidate);
  });

  test('the fast timing profile applies live; a setting breaking loop_wait + 2·retry_timeout ≤ ttl is refused', async () => {
    const bad = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.applyTimingProfile', { ttl: 10, loop_wait: 10, retry_timeout: 10 })) as Outcome;
    assert.strictEqual(bad.ok, false);
    assert.match(bad.message ?? '', /ttl/);
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.patroni.applyTimingProfile', { ttl: 10, loop_wait: 2, retry_timeout: 4 })) as Outcome;
    assert.strictEqual(r.ok, true, r.message);
    await until('the settings section shows ttl 10 s', async () => {
      await vscode.commands.executeCommand('pgHaWorkshop.patroni.refresh');
      const s = Object.fromEntries((await section('settings')).map((x) => [x.label, x.description]));
      return s.ttl === '10 s' && s.loop_wait === '2 s' && s.retry_timeout === '4 s' ? true : undefined;
    });
  });

  test('Demo 8: the leader killed under load, Patroni elects another by itself; RTO and RPO from the ledger; the old leader rejoins', async () => {
    const old = (await leaderRow())!.label;
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.demo.demo8', { ratePerSec: 10, showReport: false })) as Outcome<{ oldLeader: string; newLeader: string; rto?: { ms: number }; rpo: { lostWrites: number; acked: number }; oldLeaderRejoined?: boolean }>;
    assert.strictEqual(r.ok, true, r.message);
    const d = r.value!;
    assert.strictEqual(d.oldLeader, old);
    assert.notStrictEqual(d.newLeader, old);
    assert.ok(d.rto && d.rto.ms > 0, 'RTO measured from the ledger');
    assert.ok(d.rpo.acked > 0);
    assert.strictEqual(d.oldLeaderRejoined, true);
    await until(`${d.newLeader} shown as the leader`, async () => {
      await vscode.commands.executeCommand('pgHaWorkshop.patroni.refresh');
      return (await leaderRow())?.label === d.newLeader ? true : undefined;
    });
    const history = await section('history');
    assert.ok(history.length >= 2, `two timeline changes in the history (switchover, failover): ${JSON.stringify(history)}`);
  });
});
