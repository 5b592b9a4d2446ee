// Shared set-up of the extension-host suites: the extension activated, and the tests' cluster up.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Services } from '../../src/services';
import { clusterUp } from '../support/cluster';

/** Activates the extension under test and returns the services its activate() exposes. */
export async function activateExtension(): Promise<Services> {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as { name?: string }).name === 'pg-ha-workshop') as vscode.Extension<Services> | undefined;
  assert.ok(ext, 'the extension pg-ha-workshop is loaded in the host');
  return ext.activate();
}

/** The fixture's clusterUp, tried up to three times: on a loaded machine one connection attempt can time out. */
export async function clusterUpWithRetry(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await clusterUp();
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}
