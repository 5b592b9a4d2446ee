// An attached Patroni-managed cluster inside a real extension host: the tests' Patroni cluster
// (cluster/patroni) attached through its PostgreSQL ports and REST URLs like anyone's Patroni
// cluster. Its replicas offer Switchover and Restart (never a SQL promote); both commands go
// through Patroni's REST API after the confirmation (answered in advance here).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { clientFor, waitForLeader } from '../../src/core/patroni/operations';
import type { Services } from '../../src/services';
import { waitFor } from '../support/cluster';
import { healthy, patroni, patroniDown, patroniUp } from '../support/patroniCluster';
import { activateExtension, treeNodeItems } from './host';

interface Outcome<T = unknown> {
  ok: boolean;
  message?: string;
  value?: T;
}

const run = async <T = unknown>(command: string, ...args: unknown[]) => (await vscode.commands.executeCommand(command, ...args)) as Outcome<T>;
const keyOf = (port: number) => `127.0.0.1:${port}`;

suite('Attach to Cluster: a Patroni-managed cluster, switchover and restart through Patroni', function () {
  this.timeout(1_200_000);
  let api: Services;

  suiteSetup(async () => {
    await patroniUp();
    api = await activateExtension();
  });

  suiteTeardown(async () => {
    await run('pgHaWorkshop.switchClusterProfile', 'workshop');
    await run('pgHaWorkshop.removeClusterProfile', 'patroni');
    if (!process.env.PGHA_KEEP_CLUSTER) await patroniDown({ volumes: true });
  });

  test('attached with its REST URLs: replicas offer Switchover and Restart, no Promote', async () => {
    const o = await run('pgHaWorkshop.attachCluster', {
      input: patroni.members.map((m) => keyOf(m.pgHostPort)).join(','),
      user: 'postgres',
      password: 'postgres',
      patroniUrl: patroni.members.map((m) => m.restUrl).join(', '),
      lab: false,
      label: 'patroni',
      confirm: false,
    });
    assert.strictEqual(o.ok, true, o.message);
    assert.strictEqual(api.manager().kind, 'attached');
    assert.strictEqual(api.manager().readOnly, false);
    const rows = await waitFor(
      async () => {
        const r = await treeNodeItems(api.clusterTree!);
        return r.length === 3 && r.filter((x) => /^node\.replica\.running/.test(x.item.contextValue ?? '')).length === 2 ? r : undefined;
      },
      120_000,
      'a primary and two replicas in the tree',
    );
    for (const r of rows) {
      const cv = r.item.contextValue ?? '';
      assert.ok(!/can-promote/.test(cv), `${r.label}: no SQL promote behind Patroni's back (${cv})`);
      assert.ok(/can-restart/.test(cv), `${r.label}: restart (${cv})`);
      assert.strictEqual(/can-switchover/.test(cv), /^node\.replica/.test(cv), `${r.label}: switchover on a replica only (${cv})`);
    }
  });

  test('Switchover (the cluster command) asks Patroni: the chosen replica becomes the leader', async () => {
    const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
    const target = patroni.members.find((m) => m.name !== leader)!;
    const o = await run<{ member: string }>('pgHaWorkshop.switchover', { candidate: keyOf(target.pgHostPort), confirm: false });
    assert.strictEqual(o.ok, true, o.message);
    assert.strictEqual(o.value?.member, target.name);
    assert.strictEqual(await waitForLeader(patroni, { other: leader, timeoutMs: 180_000 }), target.name);
    // The tree follows: the new leader is the primary row.
    await waitFor(
      async () => ((await treeNodeItems(api.clusterTree!)).find((r) => r.label === api.topology().nodes.find((n) => n.key === keyOf(target.pgHostPort))!.name)?.item.contextValue ?? '').startsWith('node.primary') || undefined,
      120_000,
      `${target.name} shown as the primary`,
    );
  });

  test('Restart Node asks Patroni to restart that member', async () => {
    // After the switchover Patroni settles first: the old leader rejoins and the other replica
    // follows the new leader (until then Patroni refuses actions, and a reconnecting standby names nobody).
    assert.ok(await healthy(180_000), 'Patroni reports one leader and two running replicas');
    const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
    // A member Patroni is still starting (the old leader, rejoining) is not restarted: Patroni refuses.
    const running = await waitFor(
      async () => {
        const c = await clientFor(patroni, leader).cluster();
        return c.members.find((m) => m.name !== leader && (m.state === 'running' || m.state === 'streaming'))?.name;
      },
      180_000,
      'a running replica',
      1000,
    );
    const replica = patroni.members.find((m) => m.name === running)!;
    const o = await run<{ member: string }>('pgHaWorkshop.restartNode', keyOf(replica.pgHostPort), { confirm: false });
    assert.strictEqual(o.ok, true, o.message);
    assert.strictEqual(o.value?.member, replica.name);
  });
});
