// Attach to Cluster: watch a PostgreSQL cluster this machine only connects to (staging, a lab, a
// Patroni cluster) with the same tree, lag dashboard and notebook. Profiles live in the global
// state, passwords in VS Code's SecretStorage (never in settings). The tree's title bar switches
// between the workshop's own cluster and the attached profiles. No Docker is needed for them.
import * as vscode from 'vscode';
import { AttachInputError, defaultProfileLabel, parseAttachInput, slug, SSL_MODES, type AttachedProfile, type SslMode, type SslSettings } from '../core/clusterProfile';
import { discoverCluster, type Discovery } from '../core/discovery';
import { AddressError, formatAddress } from '../core/nodes';
import type { Services } from '../services';
import { cancelled, skipsConfirmation, type CommandOutcome } from '../commands/common';

const t = vscode.l10n.t;

export const AttachCommands = {
  attach: 'pgHaWorkshop.attachCluster',
  switchProfile: 'pgHaWorkshop.switchClusterProfile',
  removeProfile: 'pgHaWorkshop.removeClusterProfile',
} as const;

const PROFILES_KEY = 'pgHaWorkshop.clusterProfiles';
const ACTIVE_KEY = 'pgHaWorkshop.activeClusterProfile';
const secretKey = (id: string) => `pgHaWorkshop.clusterProfile.${id}.password`;
export const WORKSHOP_PROFILE = 'workshop';

/** Arguments for scripted use (walkthrough, tests): every prompt answered in advance. */
export interface AttachArgs {
  readonly input?: string;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  readonly sslmode?: SslMode;
  readonly sslrootcert?: string;
  readonly patroniUrl?: string;
  readonly lab?: boolean;
  readonly label?: string;
  /** false: attach despite warnings without asking (honoured from our own code and tests only). */
  readonly confirm?: boolean;
}

export interface AttachResult {
  readonly profile: AttachedProfile;
  readonly discovery: Discovery;
}

class ProfileStore {
  constructor(private readonly context: vscode.ExtensionContext) {}

  list(): AttachedProfile[] {
    return this.context.globalState.get<AttachedProfile[]>(PROFILES_KEY, []);
  }

  get(id: string): AttachedProfile | undefined {
    return this.list().find((p) => p.id === id);
  }

  async save(p: AttachedProfile, password: string): Promise<void> {
    await this.context.secrets.store(secretKey(p.id), password);
    await this.context.globalState.update(PROFILES_KEY, [...this.list().filter((x) => x.id !== p.id), p]);
  }

  async remove(id: string): Promise<void> {
    await this.context.secrets.delete(secretKey(id));
    await this.context.globalState.update(PROFILES_KEY, this.list().filter((x) => x.id !== id));
    if (this.activeId() === id) await this.setActive(WORKSHOP_PROFILE);
  }

  password(id: string): Thenable<string | undefined> {
    return this.context.secrets.get(secretKey(id));
  }

  activeId(): string {
    return this.context.globalState.get<string>(ACTIVE_KEY, WORKSHOP_PROFILE);
  }

  setActive(id: string): Thenable<void> {
    return this.context.globalState.update(ACTIVE_KEY, id);
  }
}

function uniqueId(store: ProfileStore, label: string): string {
  const base = slug(label);
  let id = base;
  for (let i = 2; store.get(id); i++) id = `${base}-${i}`;
  return id;
}

async function ask(prompt: string, value?: string, password = false, placeHolder?: string): Promise<string | undefined> {
  return vscode.window.showInputBox({ prompt, value, password, placeHolder, ignoreFocusOut: true });
}

/** Runs discovery, asks about warnings, saves the profile and its password, and shows the cluster. */
async function attachCluster(services: Services, store: ProfileStore, args: AttachArgs): Promise<CommandOutcome<AttachResult>> {
  const scripted = args.input !== undefined;
  const input = args.input ?? (await ask(t('Addresses of one or more nodes (host:port, comma separated), or a connection string. The other nodes are found from pg_stat_replication.'), undefined, false, 'db1.example.com:5432, db2.example.com:5432'));
  if (input === undefined) return cancelled();
  let parsed;
  try {
    parsed = parseAttachInput(input);
  } catch (e) {
    if (e instanceof AttachInputError || e instanceof AddressError) {
      void vscode.window.showErrorMessage(e.message);
      return { ok: false, message: e.message };
    }
    throw e;
  }
  const user = args.user ?? parsed.user ?? (scripted ? 'postgres' : await ask(t('User to connect as (a role with pg_monitor is enough)'), 'monitor'));
  if (user === undefined) return cancelled();
  const password = args.password ?? parsed.password ?? (scripted ? '' : await ask(t('Password of {0} (kept in VS Code\'s secret storage, never in settings)', user), undefined, true));
  if (password === undefined) return cancelled();
  const database = args.database ?? parsed.database ?? 'postgres';
  let mode: SslMode | undefined = args.sslmode ?? parsed.sslmode;
  if (!mode && !scripted) {
    const pick = await vscode.window.showQuickPick(
      SSL_MODES.map((m) => ({ label: m, description: m === 'prefer' ? t('TLS when the server offers it (libpq default)') : m === 'verify-full' ? t('TLS, certificate and host name checked') : undefined })),
      { title: t('sslmode'), placeHolder: 'prefer', ignoreFocusOut: true },
    );
    if (!pick) return cancelled();
    mode = pick.label as SslMode;
  }
  mode = mode ?? 'prefer';
  let rootCert = args.sslrootcert ?? parsed.sslrootcert;
  if (!rootCert && !scripted && (mode === 'verify-ca' || mode === 'verify-full')) {
    const files = await vscode.window.showOpenDialog({ title: t('CA certificate that signed the server certificate (sslrootcert)'), canSelectMany: false, filters: { PEM: ['pem', 'crt'] } });
    if (!files?.length) return cancelled();
    rootCert = files[0].fsPath;
  }
  const ssl: SslSettings = { mode, rootCert, cert: parsed.sslcert, key: parsed.sslkey };
  const patroniUrl = args.patroniUrl ?? (scripted ? undefined : (await ask(t('Patroni REST API of its members (optional, comma separated, e.g. http://db1:8008, http://db2:8008: restarting a member needs its own); leave empty if the cluster has no Patroni'), '')) || undefined);

  const discovery = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Attaching to {0}…', parsed.addresses.map(formatAddress).join(', ')) }, () =>
    discoverCluster(parsed.addresses, { user, password, database, ssl, patroniUrl }),
  );
  for (const u of discovery.unreachable) services.log.warn(`Attach: ${u.address} (${u.foundVia}): ${u.message}`);
  if (discovery.error) {
    services.log.error(`Attach: ${discovery.error}`);
    void vscode.window.showErrorMessage(discovery.error);
    return { ok: false, message: discovery.error };
  }
  const notes = [...discovery.warnings, ...discovery.unreachable.map((u) => t('{0} did not answer: {1}', u.address, u.message))];
  if (notes.length && !skipsConfirmation(args)) {
    const go = t('Attach');
    const pick = await vscode.window.showWarningMessage(t('Found {0} nodes.', discovery.nodes.length), { modal: true, detail: notes.join('\n\n') }, go);
    if (pick !== go) return cancelled();
  }
  let lab = args.lab;
  if (lab === undefined && !scripted) {
    const readOnly = t('Read-only (watch only)');
    const pick = await vscode.window.showQuickPick([readOnly, t('Lab: allow commands that change it (promote)')], { title: t('May the extension change this cluster?'), ignoreFocusOut: true });
    if (!pick) return cancelled();
    lab = pick !== readOnly;
  }
  const label = args.label ?? defaultProfileLabel(discovery.nodes.map((n) => n.name));
  const profile: AttachedProfile = {
    id: uniqueId(store, label),
    label,
    kind: 'attached',
    seeds: parsed.addresses,
    nodes: discovery.nodes.map((n) => ({ name: n.name, address: n.address, applicationName: n.applicationName })),
    user,
    database,
    ssl: discovery.ssl,
    patroniUrl,
    lab: lab ?? false,
  };
  await store.save(profile, password);
  await store.setActive(profile.id);
  services.setAttached(profile, password);
  for (const w of discovery.warnings) services.log.warn(`Attach ${label}: ${w}`);
  void vscode.window.showInformationMessage(t('Attached to {0}: {1} nodes, {2}.', label, discovery.nodes.length, profile.lab ? t('lab') : t('read-only')));
  return { ok: true, value: { profile, discovery } };
}

async function switchTo(services: Services, store: ProfileStore, id: string): Promise<CommandOutcome<string>> {
  if (id === WORKSHOP_PROFILE) {
    await store.setActive(id);
    services.setAttached(undefined);
    return { ok: true, value: id };
  }
  const p = store.get(id);
  if (!p) {
    const message = t('There is no cluster profile "{0}". Attach to the cluster first (PG HA Workshop: Attach to Cluster).', id);
    void vscode.window.showErrorMessage(message);
    return { ok: false, message };
  }
  const password = (await store.password(id)) ?? '';
  await store.setActive(id);
  services.setAttached(p, password);
  return { ok: true, value: id };
}

export function registerAttach(context: vscode.ExtensionContext, services: Services): void {
  const store = new ProfileStore(context);
  context.subscriptions.push(
    vscode.commands.registerCommand(AttachCommands.attach, (a?: unknown) => attachCluster(services, store, a && typeof a === 'object' ? (a as AttachArgs) : {})),
    vscode.commands.registerCommand(AttachCommands.switchProfile, async (id?: unknown): Promise<CommandOutcome<string>> => {
      if (typeof id === 'string') return switchTo(services, store, id);
      const active = store.activeId();
      type Item = vscode.QuickPickItem & { id: string };
      const mark = (x: string) => (x === active ? '$(check) ' : '');
      const items: Item[] = [
        { label: `${mark(WORKSHOP_PROFILE)}$(vm) ${t('Workshop cluster (Docker)')}`, description: services.topology().kind === 'attached' ? undefined : t('active'), id: WORKSHOP_PROFILE },
        ...store.list().map((p) => ({ label: `${mark(p.id)}$(plug) ${p.label}`, description: `${p.nodes.length} ${t('nodes')} · ${p.lab ? t('lab') : t('read-only')} · ${p.user} · sslmode=${p.ssl.mode}`, id: p.id })),
        { label: `$(add) ${t('Attach to Cluster…')}`, id: '+attach' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: t('Which cluster should the views show?') });
      if (!pick) return cancelled();
      if (pick.id === '+attach') {
        const r = await attachCluster(services, store, {});
        return r.ok ? { ok: true, value: r.value.profile.id } : r;
      }
      return switchTo(services, store, pick.id);
    }),
    vscode.commands.registerCommand(AttachCommands.removeProfile, async (id?: unknown): Promise<CommandOutcome<string>> => {
      let target = typeof id === 'string' ? id : undefined;
      if (!target) {
        const pick = await vscode.window.showQuickPick(
          store.list().map((p) => ({ label: p.label, description: p.nodes.map((n) => formatAddress(n.address)).join(', '), id: p.id })),
          { title: t('Remove which cluster profile (and its stored password)?') },
        );
        if (!pick) return cancelled();
        target = pick.id;
      }
      const wasActive = store.activeId() === target;
      await store.remove(target);
      if (wasActive) services.setAttached(undefined);
      return { ok: true, value: target };
    }),
  );
  // The profile chosen last time, with its password from the secret storage.
  const active = store.activeId();
  // Switched at once (so the first poll never asks Docker about an attached cluster), then again
  // with the password once the secret storage answers.
  if (active !== WORKSHOP_PROFILE) {
    const p = store.get(active);
    if (p) {
      services.setAttached(p, '');
      void store.password(active).then((pw) => services.setAttached(p, pw ?? ''));
    }
  }
}
