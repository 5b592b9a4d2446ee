// A second process that asks for a failover of postgres-primary at the same time as the test does,
// the way another VS Code window's automatic-failover watcher would: it waits for the cluster's
// operation lock, then fails over only if postgres-primary is still the failed primary.
// Prints one JSON line: { outcome: 'done' | 'refused' | 'error', problem?, message, newPrimary? }.
import { failover, FailoverError } from '../../src/core/failover';
import { OperationBusyError } from '../../src/core/operationLock';
import { topology, containers } from './cluster';

(async () => {
  const ctx = { topology, containers, holder: `second failover (pid ${process.pid})` };
  try {
    const r = await failover(ctx, { expectFailedPrimary: 'primary', lockWaitMs: Number(process.argv[2] ?? 120_000), fencing: 'kill', maxLagBytes: Number.MAX_SAFE_INTEGER });
    console.log(JSON.stringify({ outcome: 'done', message: 'failed over', newPrimary: r.newPrimary.key }));
  } catch (e) {
    const problem = e instanceof FailoverError ? e.problem : e instanceof OperationBusyError ? 'busy' : undefined;
    console.log(JSON.stringify({ outcome: problem ? 'refused' : 'error', problem, message: e instanceof Error ? e.message : String(e) }));
  }
  process.exit(0);
})();
