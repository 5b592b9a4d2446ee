// The extension's frame inside a real extension host: it activates, what package.json contributes
// is really there (commands both ways, the view container, the view, settings, walkthrough), the
// workspace-trust limits, the strings of both languages, and, with the cluster up, the view
// lists the four services.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DockerState } from '../../src/dockerStatus';
import type { ExtensionApi } from '../../src/api';
import type { Services } from '../../src/services';
import { clusterUp, waitFor } from '../support/cluster';
import { treeNodeItems, servicesOf } from './host';

const EXTENSION_ID = 'pg-ha-workshop.pg-ha-workshop';
const PREFIX = 'pgHaWorkshop.';

interface Contributes {
  commands?: { command: string; title: string; enablement?: string }[];
  viewsContainers?: { activitybar?: { id: string; title: string; icon: string }[] };
  views?: Record<string, { id: string; name: string }[]>;
  viewsWelcome?: { view: string; contents: string; when?: string }[];
  configuration?: { properties: Record<string, { default?: unknown }> };
  walkthroughs?: { id: string; title: string; steps: { id: string }[] }[];
}

suite('Extension skeleton', function () {
  this.timeout(120_000);
  let ext: vscode.Extension<ExtensionApi>;
  let api: Services;
  let contributes: Contributes;
  let pkg: { activationEvents?: string[]; capabilities?: { untrustedWorkspaces?: { supported: unknown; restrictedConfigurations?: string[] } } };

  suiteSetup(async () => {
    const found = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is loaded in the host`);
    ext = found;
    pkg = ext.packageJSON;
    contributes = ext.packageJSON.contributes as Contributes;
    api = await servicesOf(ext);
  });

  test('activates and returns its services (log channel, topology from the environment)', () => {
    assert.ok(ext.isActive);
    assert.equal(typeof api.log.info, 'function');
    assert.equal(typeof api.log.logLevel, 'number', 'a LogOutputChannel (it has a log level)');
    const t = api.topology();
    assert.equal(t.nodes.length, 3);
    // The runner hands the test topology (PGHA_* variables) to the extension host.
    if (process.env.PGHA_PRIMARY_PORT) assert.equal(t.nodes[0].hostPort, Number(process.env.PGHA_PRIMARY_PORT));
    if (process.env.PGHA_CONTAINER_PREFIX) assert.equal(t.nodes[0].container, `${process.env.PGHA_CONTAINER_PREFIX}postgres-primary`);
  });

  test('activation is lazy: no "*" or onStartupFinished activation event', () => {
    const events = pkg.activationEvents ?? [];
    assert.ok(!events.includes('*') && !events.includes('onStartupFinished'), `activationEvents: ${JSON.stringify(events)}`);
  });

  test('every contributed command is registered, and every registered pgHaWorkshop.* command is contributed', async () => {
    const contributed = (contributes.commands ?? []).map((c) => c.command).sort();
    assert.ok(contributed.length > 0);
    for (const c of contributed) assert.ok(c.startsWith(PREFIX), `command ${c} uses the ${PREFIX} prefix`);
    // The workbench adds <viewId>.focus, .open, ... for each contributed view: not ours to contribute.
    const viewIds = Object.values(contributes.views ?? {}).flatMap((vs) => vs.map((v) => `${v.id}.`));
    const all = await vscode.commands.getCommands(true);
    const registered = all.filter((c) => c.startsWith(PREFIX) && !viewIds.some((v) => c.startsWith(v))).sort();
    // A view's own commands may share its id as a prefix (pgHaWorkshop.patroni.*): look in all.
    const notRegistered = contributed.filter((c) => !all.includes(c));
    const notContributed = registered.filter((c) => !contributed.includes(c));
    assert.deepEqual(notRegistered, [], 'contributed but not registered');
    assert.deepEqual(notContributed, [], 'registered but not contributed');
  });

  test('the "PG HA Workshop" activity-bar container with its own icon, and the cluster view in it', async () => {
    const container = contributes.viewsContainers?.activitybar?.find((c) => c.id === 'pgHaWorkshop');
    assert.ok(container, 'activity-bar container pgHaWorkshop');
    const icon = path.join(ext.extensionPath, container.icon);
    assert.ok(fs.existsSync(icon), `icon ${container.icon} exists`);
    assert.match(fs.readFileSync(icon, 'utf8'), /<svg[\s\S]*currentColor/, 'a monochrome SVG that follows the theme colour');
    const views = contributes.views?.pgHaWorkshop ?? [];
    assert.ok(views.some((v) => v.id === 'pgHaWorkshop.cluster'), 'view pgHaWorkshop.cluster in the container');
    // The workbench knows the container and the view: their focus commands exist and run.
    await vscode.commands.executeCommand('workbench.view.extension.pgHaWorkshop');
    await vscode.commands.executeCommand('pgHaWorkshop.cluster.focus');
  });

  test('welcome content: Start Cluster when stopped, an explanation and a fix when no Docker engine answers or the socket is denied', () => {
    const welcome = (contributes.viewsWelcome ?? []).filter((w) => w.view === 'pgHaWorkshop.cluster');
    const byWhen = (re: RegExp) => welcome.find((w) => re.test(w.when ?? ''));
    const stopped = byWhen(/clusterState == stopped/);
    assert.ok(stopped, 'welcome for a stopped cluster');
    const nls = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const text = (c: string) => (c.startsWith('%') ? nls[c.slice(1, -1)] : c);
    assert.match(text(stopped.contents), /\(command:pgHaWorkshop\.startCluster\)/);
    const notRunning = byWhen(/dockerState == notRunning/);
    const noPermission = byWhen(/dockerState == noPermission/);
    assert.ok(notRunning && noPermission, 'welcome for no engine and for a denied socket');
    assert.match(text(notRunning.contents), /Start Docker[\s\S]*command:pgHaWorkshop\.checkDocker/);
    assert.match(text(noPermission.contents), /usermod -aG docker[\s\S]*command:pgHaWorkshop\.checkDocker/);
  });

  test('Check Docker Again reports the engine (the context key the welcome content reads)', async () => {
    const state = (await vscode.commands.executeCommand('pgHaWorkshop.checkDocker')) as DockerState;
    // The test machine has a running engine (scripts/ensure-docker.sh).
    assert.deepEqual(state, { ok: true });
  });

  test('no Docker engine at the configured address: Check Docker Again says so and what to do', async () => {
    const c = vscode.workspace.getConfiguration('pgHaWorkshop');
    try {
      await c.update('dockerHost', 'unix:///tmp/pgha-no-such-docker.sock', vscode.ConfigurationTarget.Global);
      const state = (await vscode.commands.executeCommand('pgHaWorkshop.checkDocker')) as DockerState;
      assert.equal(state.ok, false);
      if (!state.ok) {
        assert.equal(state.problem, 'notRunning');
        assert.match(state.message, /no Docker engine answers[\s\S]*Start Docker[\s\S]*pgHaWorkshop\.dockerHost/);
      }
    } finally {
      await c.update('dockerHost', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.deepEqual(await vscode.commands.executeCommand('pgHaWorkshop.checkDocker'), { ok: true }, 'back to the real engine');
  });

  test('settings: compose file, Docker host, poll interval, images, lag alert thresholds with the workshop defaults', () => {
    const c = vscode.workspace.getConfiguration('pgHaWorkshop');
    const props = contributes.configuration?.properties ?? {};
    for (const key of ['composeFile', 'dockerHost', 'pollIntervalMs', 'postgresImage', 'pgbouncerImage', 'alerts.lagSeconds', 'alerts.retainedWalBytes']) {
      assert.ok(props[PREFIX + key], `setting ${PREFIX}${key} contributed`);
    }
    assert.equal(c.get('pollIntervalMs'), 1000);
    assert.equal(c.get('alerts.lagSeconds'), 10);
    assert.equal(c.get('alerts.retainedWalBytes'), 10737418240);
  });

  test('settings win over the environment: an image setting changes the topology, clearing it restores the environment', async () => {
    const c = vscode.workspace.getConfiguration('pgHaWorkshop');
    const before = api.topology().postgresImage;
    try {
      await c.update('postgresImage', 'example/postgres:test', vscode.ConfigurationTarget.Global);
      assert.equal(api.topology().postgresImage, 'example/postgres:test');
      await c.update('composeFile', '/tmp/elsewhere/docker-compose.yml', vscode.ConfigurationTarget.Global);
      assert.equal(api.topology().composeFile, '/tmp/elsewhere/docker-compose.yml');
    } finally {
      await c.update('postgresImage', undefined, vscode.ConfigurationTarget.Global);
      await c.update('composeFile', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.equal(api.topology().postgresImage, before);
    assert.match(api.topology().composeFile, /cluster[\\/]docker-compose\.yml$/);
  });

  test('workspace trust: limited support, cluster commands disabled and cluster settings restricted when untrusted', () => {
    const trust = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    for (const key of ['composeFile', 'dockerHost', 'postgresImage', 'pgbouncerImage']) {
      assert.ok(trust?.restrictedConfigurations?.includes(PREFIX + key), `${PREFIX}${key} is restricted`);
    }
    const cmds = contributes.commands ?? [];
    for (const id of ['startCluster', 'stopCluster', 'resetCluster', 'stopNode', 'killNode', 'promoteReplica']) {
      const c = cmds.find((x) => x.command === PREFIX + id);
      assert.ok(c, `${PREFIX}${id} contributed`);
      assert.match(c.enablement ?? '', /isWorkspaceTrusted/, `${PREFIX}${id} needs a trusted workspace`);
    }
  });

  test('every contributed string has English and Bahasa Indonesia text', () => {
    const raw = fs.readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8');
    const keys = [...new Set([...raw.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]))];
    assert.ok(keys.length > 10);
    for (const file of ['package.nls.json', 'package.nls.id.json']) {
      const nls = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, file), 'utf8')) as Record<string, string>;
      const missing = keys.filter((k) => typeof nls[k] !== 'string' || !nls[k]);
      assert.deepEqual(missing, [], `keys missing in ${file}`);
    }
  });

  test('the walkthrough is contributed and opens', async function () {
    const walkthroughs = contributes.walkthroughs ?? [];
    assert.equal(walkthroughs.length, 1, 'one walkthrough is contributed');
    const w = walkthroughs[0];
    assert.ok(w.steps.length > 0, 'the walkthrough has steps');
    await vscode.commands.executeCommand('pgHaWorkshop.openWalkthrough');
    // The walkthrough opens in the Welcome editor, which becomes the active tab.
    const tab = await waitFor(() => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active && /welcome|walkthrough/i.test(active.label) ? active : undefined;
    }, 15_000, 'the Welcome editor with the walkthrough');
    assert.ok(tab.isActive);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('with the cluster up, the view lists the four services', async function () {
    // Longer than the fixture's own start budget, so a slow start fails with the fixture's message.
    this.timeout(660_000);
    await clusterUp();
    const t = api.topology();
    const expected = [...t.nodes.map((n) => n.container), t.pgbouncer.container].sort();
    const labels = await waitFor(
      async () => {
        const tree = api.clusterTree;
        if (!tree) return undefined;
        const ls = (await treeNodeItems(tree)).map((i) => i.label).filter((l) => expected.includes(l));
        return ls.length === expected.length ? ls.sort() : undefined;
      },
      30_000,
      'the cluster view to list the four services',
    );
    assert.deepEqual(labels, expected);
  });
});
