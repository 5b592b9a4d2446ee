// Patroni's timing and failover settings (the dynamic configuration kept in etcd), the two
// profiles Demo 8 compares, and the rule Patroni imposes on them. Pure.
//
// API: validatePatroniSettings(s) → string[] (empty when fine) · settingsOf(config) ·
//      DEFAULT_PROFILE, FAST_PROFILE · expectedDetectionBoundSec(s)
import type { PatroniDynamicConfig } from './rest';

export interface PatroniSettings {
  readonly ttl: number;
  readonly loop_wait: number;
  readonly retry_timeout: number;
  readonly maximum_lag_on_failover: number;
  readonly synchronous_mode: boolean;
  readonly synchronous_mode_strict: boolean;
}

export type TimingProfile = Pick<PatroniSettings, 'ttl' | 'loop_wait' | 'retry_timeout'>;

/** Patroni's own defaults (and cluster/patroni/patroni.yml's). */
export const DEFAULT_PROFILE: TimingProfile = { ttl: 30, loop_wait: 10, retry_timeout: 10 };
/** Faster failure detection: 2 + 2·4 = 10 ≤ 10. */
export const FAST_PROFILE: TimingProfile = { ttl: 10, loop_wait: 2, retry_timeout: 4 };

export const PATRONI_DEFAULTS: PatroniSettings = {
  ...DEFAULT_PROFILE,
  maximum_lag_on_failover: 1048576,
  synchronous_mode: false,
  synchronous_mode_strict: false,
};

/** The settings Demo 8 shows, from GET /config (Patroni's defaults fill what is not set). */
export function settingsOf(c: PatroniDynamicConfig): PatroniSettings {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
  const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : v === 'on' || v === 'true' ? true : v === 'off' || v === 'false' ? false : d);
  return {
    ttl: num(c.ttl, PATRONI_DEFAULTS.ttl),
    loop_wait: num(c.loop_wait, PATRONI_DEFAULTS.loop_wait),
    retry_timeout: num(c.retry_timeout, PATRONI_DEFAULTS.retry_timeout),
    maximum_lag_on_failover: num(c.maximum_lag_on_failover, PATRONI_DEFAULTS.maximum_lag_on_failover),
    synchronous_mode: bool(c.synchronous_mode, false),
    synchronous_mode_strict: bool(c.synchronous_mode_strict, false),
  };
}

/**
 * Problems with a (partial) change of settings, merged over the current ones; each a sentence a
 * user can act on. Empty when Patroni would take the settings as they are (Patroni itself silently
 * lowers loop_wait / retry_timeout when the rule is broken, so we refuse instead of letting it).
 */
export function validatePatroniSettings(change: Partial<PatroniSettings>, current: PatroniSettings = PATRONI_DEFAULTS): string[] {
  const p: string[] = [];
  const s = { ...current, ...change };
  const int = (name: keyof PatroniSettings, min: number, example: string) => {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) p.push(`${name} must be a whole number of at least ${min} (got ${String(v)}), e.g. ${example}.`);
  };
  int('ttl', 1, '30');
  int('loop_wait', 1, '10');
  int('retry_timeout', 3, '10');
  int('maximum_lag_on_failover', 0, '1048576');
  if (p.length === 0 && s.loop_wait + 2 * s.retry_timeout > s.ttl) {
    p.push(
      `loop_wait + 2·retry_timeout must not exceed ttl: ${s.loop_wait} + 2·${s.retry_timeout} = ${s.loop_wait + 2 * s.retry_timeout} > ${s.ttl}. ` +
        `A leader cut off from etcd must notice it and demote before its lock expires. Raise ttl to ${s.loop_wait + 2 * s.retry_timeout} or lower loop_wait / retry_timeout.`,
    );
  }
  if (typeof s.synchronous_mode !== 'boolean') p.push(`synchronous_mode must be true or false (got ${String(s.synchronous_mode)}).`);
  if (typeof s.synchronous_mode_strict !== 'boolean') p.push(`synchronous_mode_strict must be true or false (got ${String(s.synchronous_mode_strict)}).`);
  if (s.synchronous_mode_strict === true && s.synchronous_mode !== true) p.push('synchronous_mode_strict only applies with synchronous_mode: turn synchronous_mode on too.');
  return p;
}

/** Notes that are not errors (Patroni versions differ). */
export function settingsNotes(s: PatroniSettings): string[] {
  const n: string[] = [];
  if (s.ttl < 20) n.push(`ttl ${s.ttl} s works on Patroni 3.0/3.1 (Debian bookworm); Patroni 3.2 and later raise a ttl below 20 to 20.`);
  return n;
}

/**
 * Upper bound of how long a crashed leader goes unnoticed: its lock lives up to ttl after the
 * last renewal, and a replica looks again at most loop_wait later.
 */
export function expectedDetectionBoundSec(s: TimingProfile): number {
  return s.ttl + s.loop_wait;
}
