// The load, failover, rejoin, switchover and synchronous-replication commands inside a real
// extension host, against the real cluster: run through VS Code, results read from their
// outcomes and from the tree. The cluster ends in its standard shape (switchover back).
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Services } from '../../src/services';
import { waitFor } from '../support/cluster';
import { activateExtension, clusterUpWithRetry } from './host';

interface Outcome<T = unknown> {
  ok: boolean;
  message?: string;
  value?: T;
}

let api: Services;

async function run<T = unknown>(command: string, ...args: unknown[]): Promise<Outcome<T>> {
  return (await vscode.commands.executeCommand(command, ...args)) as Outcome<T>;
}

suite('Write load, failover, rejoin, switchover, synchronous replication', function () {
  this.timeout(900_000);

  suiteSetup(async () => {
    await clusterUpWithRetry();
    api = await activateExtension();
    await waitFor(() => api.monitor.current?.primary === 'primary' && api.monitor.current.nodes.filter((n) => n.role === 'replica').length === 2, 120_000, 'the standard topology');
  });

  test('every command is registered', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const id of ['startLoad', 'stopLoad', 'failOver', 'switchover', 'fenceNode', 'rejoinReplica', 'setSynchronousReplication', 'showFailoverReport']) {
      assert.ok(all.includes(`pgHaWorkshop.${id}`), id);
    }
  });

  test('bad input: rate 0 and a read-only target are refused with a message; Stop with no load says so', async () => {
    const zero = await run('pgHaWorkshop.startLoad', { mode: 'rate', ratePerSec: 0, durationSec: 10 });
    assert.strictEqual(zero.ok, false);
    assert.match(zero.message ?? '', /more than 0/);
    const ro = await run('pgHaWorkshop.startLoad', { mode: 'rate', ratePerSec: 2, durationSec: 10, target: 'replica1' });
    assert.strictEqual(ro.ok, false);
    assert.match(ro.message ?? '', /read-only/);
    const stop = await run('pgHaWorkshop.stopLoad');
    assert.strictEqual(stop.ok, false);
  });

  test('Fail Over while the load runs: report with RTO and RPO, the tree shows the new primary', async () => {
    const started = await run<{ runId: string }>('pgHaWorkshop.startLoad', { mode: 'rate', ratePerSec: 10, durationSec: 300, target: 'primary' });
    assert.ok(started.ok, started.message);
    await new Promise((r) => setTimeout(r, 5000));
    const f = await run<{ newPrimary: { key: string }; rto?: { ms: number }; rpo?: { lostWrites: number }; report: string }>('pgHaWorkshop.failOver', { confirm: false, fencing: 'kill', openReport: false });
    assert.ok(f.ok, f.message);
    const v = f.value!;
    assert.match(v.report, /# Failover report/);
    assert.match(v.report, /\*\*RTO\*\*/);
    assert.ok(v.rto && v.rto.ms > 0, 'RTO measured');
    assert.ok(v.rpo && v.rpo.lostWrites >= 0, 'RPO measured');
    await waitFor(() => api.monitor.current?.primary === v.newPrimary.key, 60_000, 'the monitor to show the new primary');
    const stopped = await run<{ acked: number; failed: number }>('pgHaWorkshop.stopLoad');
    assert.ok(stopped.ok);
    assert.ok(stopped.value!.acked > 0 && stopped.value!.failed > 0);
    const shown = await run<string>('pgHaWorkshop.showFailoverReport');
    assert.ok(shown.ok);
  });

  test('Rejoin as Replica (pg_rewind), then Switchover back to postgres-primary: standard shape again', async () => {
    const r = await run<{ streaming: boolean; method: string }>('pgHaWorkshop.rejoinReplica', 'primary', { confirm: false });
    assert.ok(r.ok, r.message);
    assert.strictEqual(r.value!.streaming, true);
    const s = await run<{ failover: { newPrimary: { key: string }; rpo?: { lostWrites: number } }; rejoinError?: string }>('pgHaWorkshop.switchover', { candidate: 'primary', confirm: false, openReport: false });
    assert.ok(s.ok, s.message);
    assert.strictEqual(s.value!.failover.newPrimary.key, 'primary');
    assert.strictEqual(s.value!.rejoinError, undefined);
    await waitFor(() => api.monitor.current?.primary === 'primary' && api.monitor.current.nodes.filter((n) => n.role === 'replica').length === 2 && api.monitor.current.pgbouncer.target === 'primary', 120_000, 'standard shape');
  });

  test('Configure Synchronous Replication: sync_state in the status the tree renders, then back to async', async () => {
    const on = await run<{ synchronousStandbyNames: string }>('pgHaWorkshop.setSynchronousReplication', { method: 'FIRST', num: 1, standbys: ['postgres-replica1', 'postgres-replica2'], commit: 'remote_apply' });
    assert.ok(on.ok, on.message);
    await waitFor(() => api.monitor.current?.nodes.find((n) => n.key === 'replica1')?.syncState === 'sync', 30_000, 'replica1 sync');
    const off = await run('pgHaWorkshop.setSynchronousReplication', { method: 'async', commit: 'on' });
    assert.ok(off.ok, off.message);
    await waitFor(() => api.monitor.current?.nodes.find((n) => n.key === 'replica1')?.syncState === 'async', 30_000, 'replica1 async');
  });
});
