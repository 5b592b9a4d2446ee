// A fault drill as data: cluster/drills/NAME.yaml, readable by a learner, run by runDrill().
//
//   title: kill -9 of the primary (synchronous), one-click failover
//   learn: what the drill shows, in a sentence or two
//   title: { workshop: "..., one-click failover", patroni: "..., Patroni elects a leader" }   # or per profile (learn too)
//   quick: true                      # part of the fast integration subset
//   profiles: [workshop, patroni]    # the cluster profiles it runs on (default: workshop only)
//   not-on: { patroni: why }         # a profile it does not run on, and why (shown when skipped)
//   setup:
//     sync: "FIRST 1 (postgres-replica1, postgres-replica2)"   # or "off" (asynchronous)
//     writes: { via: pgbouncer, clients: 2, pauseMs: 20, timeoutMs: 3000, reconnectEachWrite: false }
//   steps:                           # run in order
//     - wait: 3s
//     - fault: kill                  # kill | stop | start | pause | unpause | disconnect | reconnect | pause-replay | resume-replay | bulk-write
//       node: primary                # primary | replica1 | replica2 | sync-standby | old-primary | new-primary | pgbouncer
//     - action: failover             # failover | auto-failover | switchover | promote | fence | set-sync | repoint-pgbouncer | rejoin
//       fencing: kill
//     - action: rejoin               # a step with `profiles:` runs only on those profiles
//       profiles: [patroni]
//   expect:                          # checked after the steps, each time-bounded where it says so
//     - writes-resume: 5s            # longest gap between two acknowledged writes
//     - lost: 0                      # acknowledged writes missing at the end (max)
//     - writes-resume: { workshop: 60s, patroni: 120s }   # a bound per profile (a profile left out: not checked there)
//   known: the expectations a pending change still has to make pass (shown, not hidden);
//     per profile: `lost: { patroni: why }`
//
// On the Patroni profile (cluster/patroni/) the same drill injects the same faults into the
// leader's container and writes through the router (HAProxy); the actions map to Patroni's own:
// failover / auto-failover = nothing from us, wait for Patroni to elect a leader; switchover =
// Patroni's REST switchover; rejoin = heal the old leader's fault and wait until Patroni has made
// it a replica. promote, fence, set-sync and repoint-pgbouncer are ours only (refused there).
//
// API (no vscode): parseDrill(text, name) → DrillSpec | throws DrillSpecError; loadDrills(dir);
//   drillForProfile(spec, profile) → the spec as that profile runs it (its steps and bounds)
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

export type NodeRef = 'primary' | 'replica1' | 'replica2' | 'sync-standby' | 'old-primary' | 'new-primary' | 'pgbouncer';
export const NODE_REFS: readonly NodeRef[] = ['primary', 'replica1', 'replica2', 'sync-standby', 'old-primary', 'new-primary', 'pgbouncer'];

export type FaultKind = 'kill' | 'stop' | 'start' | 'pause' | 'unpause' | 'disconnect' | 'reconnect' | 'pause-replay' | 'resume-replay' | 'bulk-write';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'stop', 'start', 'pause', 'unpause', 'disconnect', 'reconnect', 'pause-replay', 'resume-replay', 'bulk-write'];

export type ActionKind = 'failover' | 'auto-failover' | 'switchover' | 'promote' | 'fence' | 'set-sync' | 'repoint-pgbouncer' | 'rejoin';
export const ACTION_KINDS: readonly ActionKind[] = ['failover', 'auto-failover', 'switchover', 'promote', 'fence', 'set-sync', 'repoint-pgbouncer', 'rejoin'];

export type DrillProfile = 'workshop' | 'patroni';
export const DRILL_PROFILES: readonly DrillProfile[] = ['workshop', 'patroni'];

/** Actions that exist on the Patroni profile (the others are our own one-click machinery). */
export const PATRONI_ACTIONS: readonly ActionKind[] = ['failover', 'auto-failover', 'switchover', 'rejoin'];

type StepBody =
  | { readonly wait: number }
  /** Wait until the armed automatic-failover watcher has failed over (or given up). */
  | { readonly waitFor: 'auto-failover'; readonly timeout: number }
  /** Wait until the writer gets a write acknowledged again (a node restarting is slow on a busy machine). */
  | { readonly waitFor: 'writes'; readonly timeout: number }
  | { readonly fault: FaultKind; readonly node: NodeRef; readonly megabytes?: number }
  | {
      readonly action: ActionKind;
      readonly node?: NodeRef;
      readonly fencing?: 'kill' | 'stop';
      readonly candidate?: NodeRef;
      /** failover: accept the data loss: a candidate beyond the lag limit, or no survivor proven to hold every acknowledged commit (synchronous standby lost). */
      readonly acceptDataLoss?: boolean;
      /** set-sync: the new synchronous_standby_names ('' = asynchronous). */
      readonly sync?: string;
      /** failover: a fault injected when the failover reports this step (e.g. kill the new primary at 'promote'). */
      readonly during?: { readonly step: string; readonly fault: FaultKind; readonly node: NodeRef };
      /** Wait at most this long for the action (auto-failover: for the watcher to act). */
      readonly timeout?: number;
    };

/** A step; with `profiles`, it runs only on those profiles. */
export type DrillStep = StepBody & { readonly profiles?: readonly DrillProfile[] };

export type Expectation =
  | { readonly kind: 'writes-resume'; readonly withinMs: number }
  | { readonly kind: 'writes-resume-after-action'; readonly withinMs: number }
  | { readonly kind: 'lost'; readonly max: number }
  | { readonly kind: 'lost-at-least'; readonly min: number }
  | { readonly kind: 'unexpected'; readonly max: number }
  | { readonly kind: 'failed-writes'; readonly max: number }
  | { readonly kind: 'stale-acks'; readonly max: number }
  | { readonly kind: 'timeline'; readonly value: 'changed' | 'unchanged' }
  | { readonly kind: 'old-primary-rejoins'; readonly withinMs: number }
  | { readonly kind: 'action-refused'; readonly problem: string }
  | { readonly kind: 'no-read-only-after-recovery' }
  | { readonly kind: 'commits-blocked' }
  | { readonly kind: 'one-primary-at-end' };

export const EXPECTATION_KINDS = ['writes-resume', 'writes-resume-after-action', 'lost', 'lost-at-least', 'unexpected', 'failed-writes', 'stale-acks', 'timeline', 'old-primary-rejoins', 'action-refused', 'no-read-only-after-recovery', 'commits-blocked', 'one-primary-at-end'] as const;

export interface WritesSetup {
  readonly via: 'pgbouncer' | 'primary';
  readonly clients: number;
  readonly pauseMs: number;
  readonly timeoutMs: number;
  readonly reconnectEachWrite: boolean;
}

export interface DrillSpec {
  readonly name: string;
  /** Title and text on the profile this spec is for (the workshop's as parsed; see drillForProfile). */
  readonly title: string;
  readonly learn: string;
  /** The same per profile (`title: { workshop: ..., patroni: ... }`; a plain string is every profile's). */
  readonly titleByProfile: Readonly<Record<DrillProfile, string>>;
  readonly learnByProfile: Readonly<Record<DrillProfile, string>>;
  readonly quick: boolean;
  /** The profiles the drill runs on. */
  readonly profiles: readonly DrillProfile[];
  /** Profiles it does not run on, with the reason shown when it is skipped there. */
  readonly notOn: Readonly<Partial<Record<DrillProfile, string>>>;
  readonly setup: { readonly sync: string; readonly writes: WritesSetup };
  readonly steps: readonly DrillStep[];
  /** The expectations on the profile this spec is for (the workshop's as parsed; see drillForProfile). */
  readonly expect: readonly Expectation[];
  /** The expectations per profile (a bound written per profile applies to the profiles it names). */
  readonly expectByProfile: Readonly<Record<DrillProfile, readonly Expectation[]>>;
  /** Expectations (by kind) that wait on a pending change, with why (on the profile this spec is for). */
  readonly known: Readonly<Record<string, string>>;
  /** The same per profile (`known: { lost: { patroni: why } }` marks it on that profile only). */
  readonly knownByProfile: Readonly<Record<DrillProfile, Readonly<Record<string, string>>>>;
}

export class DrillSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillSpecError';
  }
}

/** "3s", "500ms", "1.5 s", 2 (seconds) → ms. */
export function parseDuration(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v) : null;
  if (!m) throw new DrillSpecError(`${where}: "${String(v)}" is not a duration: write e.g. 3s, 500ms or 1m.`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new DrillSpecError(`${where}: "${String(v)}" is not one of ${allowed.join(', ')}.`);
}

function count(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new DrillSpecError(`${where}: "${String(v)}" must be a whole number (0 or more).`);
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new DrillSpecError(`${where} must be a mapping (key: value lines).`);
}

function parseProfiles(v: unknown, where: string): DrillProfile[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new DrillSpecError(`${where} must name at least one profile (${DRILL_PROFILES.join(', ')}).`);
  return [...new Set(list.map((p) => oneOf(p, DRILL_PROFILES, where)))];
}

function parseStep(raw: unknown, where: string): DrillStep {
  const s = obj(raw, where);
  const body = parseStepBody(s, where);
  return s.profiles === undefined ? body : { ...body, profiles: parseProfiles(s.profiles, `${where} profiles`) };
}

function parseStepBody(s: Record<string, unknown>, where: string): StepBody {
  if ('wait' in s) return { wait: parseDuration(s.wait, `${where} wait`) };
  if ('wait-for' in s) {
    const what = oneOf(s['wait-for'], ['auto-failover', 'writes'] as const, `${where} wait-for`);
    return { waitFor: what, timeout: s.timeout === undefined ? 60_000 : parseDuration(s.timeout, `${where} timeout`) };
  }
  if ('fault' in s) {
    const fault = oneOf(s.fault, FAULT_KINDS, `${where} fault`);
    return { fault, node: oneOf(s.node ?? 'primary', NODE_REFS, `${where} node`), megabytes: s.megabytes === undefined ? undefined : count(s.megabytes, `${where} megabytes`) };
  }
  if ('action' in s) {
    const action = oneOf(s.action, ACTION_KINDS, `${where} action`);
    const during = s.during === undefined ? undefined : obj(s.during, `${where} during`);
    return {
      action,
      node: s.node === undefined ? undefined : oneOf(s.node, NODE_REFS, `${where} node`),
      fencing: s.fencing === undefined ? undefined : oneOf(s.fencing, ['kill', 'stop'] as const, `${where} fencing`),
      candidate: s.candidate === undefined ? undefined : oneOf(s.candidate, NODE_REFS, `${where} candidate`),
      acceptDataLoss: s.acceptDataLoss === true,
      sync: s.sync === undefined ? undefined : String(s.sync),
      during: during ? { step: String(during.step), fault: oneOf(during.fault, FAULT_KINDS, `${where} during.fault`), node: oneOf(during.node, NODE_REFS, `${where} during.node`) } : undefined,
      timeout: s.timeout === undefined ? undefined : parseDuration(s.timeout, `${where} timeout`),
    };
  }
  throw new DrillSpecError(`${where} must start with wait:, wait-for:, fault: or action:.`);
}

/** One expectation item → its value per profile (a mapping of profiles, or one value for all). */
function parseExpectationItem(raw: unknown, where: string): Partial<Record<DrillProfile, Expectation>> {
  const e = obj(raw, where);
  const keys = Object.keys(e);
  if (keys.length !== 1) throw new DrillSpecError(`${where} must name one expectation (e.g. "- lost: 0"), got ${keys.join(', ') || 'nothing'}.`);
  const kind = oneOf(keys[0], EXPECTATION_KINDS, `${where}`);
  const v = e[kind];
  const perProfile = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  if (!perProfile) return Object.fromEntries(DRILL_PROFILES.map((p) => [p, parseExpectation(kind, v, where)]));
  const out: Partial<Record<DrillProfile, Expectation>> = {};
  for (const [p, pv] of Object.entries(perProfile)) out[oneOf(p, DRILL_PROFILES, `${where} ${kind} (a value per profile)`)] = parseExpectation(kind, pv, `${where} ${kind}.${p}`);
  return out;
}

function parseExpectation(kind: (typeof EXPECTATION_KINDS)[number], v: unknown, where: string): Expectation {
  switch (kind) {
    case 'writes-resume':
    case 'writes-resume-after-action':
    case 'old-primary-rejoins':
      return { kind, withinMs: parseDuration(v, `${where} ${kind}`) };
    case 'lost':
    case 'unexpected':
    case 'failed-writes':
    case 'stale-acks':
      return { kind, max: count(v, `${where} ${kind}`) };
    case 'lost-at-least':
      return { kind, min: count(v, `${where} ${kind}`) };
    case 'timeline':
      return { kind, value: oneOf(v, ['changed', 'unchanged'] as const, `${where} timeline`) };
    case 'action-refused':
      return { kind, problem: String(v) };
    default:
      if (v !== true) throw new DrillSpecError(`${where}: write "- ${kind}: true".`);
      return { kind };
  }
}

export function parseDrill(text: string, name: string): DrillSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new DrillSpecError(`${name}: not valid YAML (${e instanceof Error ? e.message : String(e)}).`);
  }
  const d = obj(doc, name);
  if (d.title === undefined || d.title === null || d.title === '') throw new DrillSpecError(`${name}: a drill needs a title.`);
  const titleByProfile = textPerProfile(d.title, `${name} title`);
  if (!titleByProfile.workshop) throw new DrillSpecError(`${name}: a drill needs a title.`);
  const learnByProfile = textPerProfile(d.learn ?? '', `${name} learn`);
  const setup = d.setup === undefined ? {} : obj(d.setup, `${name} setup`);
  const w = setup.writes === undefined ? {} : obj(setup.writes, `${name} setup.writes`);
  const writes: WritesSetup = {
    via: oneOf(w.via ?? 'pgbouncer', ['pgbouncer', 'primary'] as const, `${name} setup.writes.via`),
    clients: w.clients === undefined ? 2 : count(w.clients, `${name} setup.writes.clients`),
    pauseMs: w.pauseMs === undefined ? 20 : count(w.pauseMs, `${name} setup.writes.pauseMs`),
    timeoutMs: w.timeout === undefined ? 3000 : parseDuration(w.timeout, `${name} setup.writes.timeout`),
    reconnectEachWrite: w.reconnectEachWrite === true,
  };
  if (writes.clients < 1 || writes.clients > 16) throw new DrillSpecError(`${name} setup.writes.clients must be 1 to 16 (got ${writes.clients}).`);
  if (!Array.isArray(d.steps) || d.steps.length === 0) throw new DrillSpecError(`${name}: a drill needs steps (a list of wait:, fault: and action: items).`);
  if (!Array.isArray(d.expect) || d.expect.length === 0) throw new DrillSpecError(`${name}: a drill needs expectations (expect: a list such as "- lost: 0").`);
  const known = d.known === undefined ? {} : obj(d.known, `${name} known`);
  const profiles = d.profiles === undefined ? (['workshop'] as DrillProfile[]) : parseProfiles(d.profiles, `${name} profiles`);
  const notOnRaw = d['not-on'] === undefined ? {} : obj(d['not-on'], `${name} not-on`);
  const notOn: Partial<Record<DrillProfile, string>> = {};
  for (const [p, why] of Object.entries(notOnRaw)) {
    const prof = oneOf(p, DRILL_PROFILES, `${name} not-on`);
    if (profiles.includes(prof)) throw new DrillSpecError(`${name}: ${prof} is both in profiles and in not-on: keep one.`);
    notOn[prof] = String(why).trim();
  }
  const steps = d.steps.map((s, i) => parseStep(s, `${name} steps[${i + 1}]`));
  if (profiles.includes('patroni')) {
    steps.forEach((s, i) => {
      if ((s.profiles && !s.profiles.includes('patroni')) || !('action' in s)) return;
      if (!PATRONI_ACTIONS.includes(s.action)) throw new DrillSpecError(`${name} steps[${i + 1}]: action ${s.action} does not exist on the Patroni profile (Patroni decides roles; there: ${PATRONI_ACTIONS.join(', ')}). Mark the step "profiles: [workshop]" or take patroni out of the drill's profiles.`);
      if (s.during || s.acceptDataLoss) throw new DrillSpecError(`${name} steps[${i + 1}]: during and acceptDataLoss belong to our own failover; the Patroni profile cannot run them. Mark the step "profiles: [workshop]".`);
    });
  }
  const items = d.expect.map((e, i) => parseExpectationItem(e, `${name} expect[${i + 1}]`));
  const knownByProfile = Object.fromEntries(
    DRILL_PROFILES.map((p) => [
      p,
      Object.fromEntries(
        Object.entries(known).flatMap(([k, v]): [string, string][] => {
          if (typeof v !== 'object' || v === null) return [[k, String(v)]];
          const per = obj(v, `${name} known.${k}`);
          for (const q of Object.keys(per)) oneOf(q, DRILL_PROFILES, `${name} known.${k} (a reason per profile)`);
          return per[p] === undefined ? [] : [[k, String(per[p])]];
        }),
      ),
    ]),
  ) as Record<DrillProfile, Record<string, string>>;
  const expectByProfile = Object.fromEntries(DRILL_PROFILES.map((p) => [p, items.map((x) => x[p]).filter((x): x is Expectation => x !== undefined)])) as Record<DrillProfile, Expectation[]>;
  for (const p of profiles) if (expectByProfile[p].length === 0) throw new DrillSpecError(`${name}: no expectation applies on the ${p} profile.`);
  return {
    name,
    title: titleByProfile.workshop,
    learn: learnByProfile.workshop,
    titleByProfile,
    learnByProfile,
    quick: d.quick === true,
    profiles,
    notOn,
    setup: { sync: setup.sync === undefined || setup.sync === 'off' ? '' : String(setup.sync), writes },
    steps,
    expect: expectByProfile.workshop,
    expectByProfile,
    known: knownByProfile.workshop,
    knownByProfile,
  };
}

/** Why `spec` does not run on `profile`, or undefined when it does. */
export function skipReason(spec: DrillSpec, profile: DrillProfile): string | undefined {
  if (spec.profiles.includes(profile)) return undefined;
  return spec.notOn[profile] ?? `written for the ${spec.profiles.join(' and ')} profile${spec.profiles.length > 1 ? 's' : ''} only (profiles: [${spec.profiles.join(', ')}])`;
}

/** A text, or one per profile (`{ workshop: ..., patroni: ... }`; a profile left out reads the workshop's). */
function textPerProfile(v: unknown, where: string): Record<DrillProfile, string> {
  if (typeof v === 'string') return Object.fromEntries(DRILL_PROFILES.map((p) => [p, v.trim()])) as Record<DrillProfile, string>;
  const per = obj(v, `${where} (a text, or one per profile)`);
  for (const [p, text] of Object.entries(per)) {
    oneOf(p, DRILL_PROFILES, where);
    if (typeof text !== 'string') throw new DrillSpecError(`${where}.${p}: write a text.`);
  }
  if (typeof per.workshop !== 'string' || !per.workshop.trim()) throw new DrillSpecError(`${where}: name the workshop's text too (workshop: ...).`);
  return Object.fromEntries(DRILL_PROFILES.map((p) => [p, String(per[p] ?? per.workshop).trim()])) as Record<DrillProfile, string>;
}

/** The drill as `profile` runs it: its steps for that profile and that profile's expectations. */
export function drillForProfile(spec: DrillSpec, profile: DrillProfile): DrillSpec {
  return { ...spec, title: spec.titleByProfile[profile], learn: spec.learnByProfile[profile], steps: spec.steps.filter((s) => !s.profiles || s.profiles.includes(profile)), expect: spec.expectByProfile[profile], known: spec.knownByProfile[profile] };
}

/** Every *.yaml drill of a folder, sorted by name. */
export async function loadDrills(dir: string): Promise<DrillSpec[]> {
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch (e) {
    throw new DrillSpecError(`Cannot read the drills folder ${dir}: ${e instanceof Error ? e.message : String(e)}.`);
  }
  return Promise.all(files.map(async (f) => parseDrill(await fs.readFile(path.join(dir, f), 'utf8'), f.replace(/\.ya?ml$/, ''))));
}

export function drillsDir(root: string): string {
  return path.join(root, 'cluster', 'drills');
}
