// The walkthrough's steps: one palette command and one context key per step. The context key is
// set from the demo's RESULT (never from the click), and each step's completionEvents use it
// (`onContext:pgHaWorkshop.demo1.passed`).
import type { DemoId } from '../core/demos/common';

export const WALKTHROUGH_ID = 'pgHaWorkshop.gettingStarted';

export const DemoCommands: Readonly<Record<DemoId, string>> = {
  prerequisites: 'pgHaWorkshop.demo.checkPrerequisites',
  start: 'pgHaWorkshop.demo.startCluster',
  verify: 'pgHaWorkshop.demo.verifyReplication',
  demo1: 'pgHaWorkshop.demo.basicReplication',
  demo2: 'pgHaWorkshop.demo.readScaling',
  demo3: 'pgHaWorkshop.demo.lagMonitoring',
  demo4: 'pgHaWorkshop.demo.primaryFailover',
  demo5: 'pgHaWorkshop.demo.lagUnderLoad',
  demo6: 'pgHaWorkshop.demo.splitBrain',
  demo7: 'pgHaWorkshop.demo.pgbouncer',
  demo9: 'pgHaWorkshop.demo.replicationNotBackup',
  cleanup: 'pgHaWorkshop.demo.cleanup',
};

export const SHOW_RESULTS_COMMAND = 'pgHaWorkshop.demo.showResults';
export const OPEN_WALKTHROUGH_COMMAND = 'pgHaWorkshop.openWalkthrough';

/** Context key a step's completion waits for. */
export function passedKey(id: DemoId): string {
  return `pgHaWorkshop.${id}.passed`;
}
