// The first screen: on the extension's first run in a profile, the walkthrough opens and the side
// bar shows the cluster view (not the Explorer with an unlabelled icon), so a learner sees where
// to start. Once per profile (globalState); never under the extension-host tests.
import * as vscode from 'vscode';
import { OPEN_WALKTHROUGH_COMMAND } from './demoIds';

const SHOWN_KEY = 'pgHaWorkshop.firstScreenShown';

export function showFirstScreen(context: vscode.ExtensionContext, log: (m: string) => void): void {
  if (context.extensionMode === vscode.ExtensionMode.Test || context.globalState.get<boolean>(SHOWN_KEY)) return;
  void (async () => {
    await context.globalState.update(SHOWN_KEY, true);
    try {
      await vscode.commands.executeCommand('pgHaWorkshop.cluster.focus');
      await vscode.commands.executeCommand(OPEN_WALKTHROUGH_COMMAND);
    } catch (e) {
      log(`first screen: ${e instanceof Error ? e.message : String(e)}`);
    }
  })();
}
