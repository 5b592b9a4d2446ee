// Restricted Mode (run with `node scripts/run-vscode-tests.mjs --file trust --untrusted`): the
// commands that change containers or run SQL refuse even when another extension runs them with
// executeCommand, and the automatic-failover watcher (it kills containers) does not run. Skipped
// in a trusted workspace.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/api';
import type { Services } from '../../src/services';
import { servicesOf } from './host';

const EXTENSION_ID = 'pg-ha-workshop.pg-ha-workshop';

suite('Workspace trust off', function () {
  this.timeout(120_000);
  let api: Services;

  suiteSetup(async function () {
    if (vscode.workspace.isTrusted) this.skip();
    api = await servicesOf(vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID)!);
  });

  test('commands that change containers or run SQL refuse, whoever runs them', async () => {
    for (const id of ['pgHaWorkshop.failOver', 'pgHaWorkshop.switchover', 'pgHaWorkshop.fenceNode', 'pgHaWorkshop.rejoinReplica', 'pgHaWorkshop.startNode', 'pgHaWorkshop.killNode', 'pgHaWorkshop.startLoad', 'pgHaWorkshop.lab.autoFailover.setup', 'pgHaWorkshop.setSynchronousReplication']) {
      const r = (await vscode.commands.executeCommand(id, 'primary', { confirm: false })) as { ok: boolean; message?: string };
      assert.strictEqual(r.ok, false, `${id} refused`);
      assert.match(r.message ?? '', /not trusted/, id);
    }
  });

  test('the automatic-failover watcher does not run, and its settings are machine-scoped', () => {
    assert.strictEqual(api.autoFailover, undefined);
    const props = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.configuration.properties as Record<string, { scope?: string }>;
    for (const [k, v] of Object.entries(props)) if (k.startsWith('pgHaWorkshop.autoFailover.')) assert.strictEqual(v.scope, 'machine', k);
  });
});
