// The walkthrough's first step: can this machine run the workshop? Docker engine reachable,
// Compose available (v2 or v1), the cluster's ports free. Each failed check carries the fix.
// Ports held by this cluster's own containers count as free (the cluster is already up).
//
// API (no vscode): checkPrerequisites(topology, docker) → PrerequisiteReport
import type Docker from 'dockerode';
import { detectComposeCli, findPortConflicts } from '../docker/compose';
import { DockerError, pingDocker } from '../docker/engine';
import type { ClusterTopology } from './topology';

export interface PrerequisiteCheck {
  readonly id: 'docker' | 'compose' | 'ports';
  readonly ok: boolean;
  /** What was found (engine version, Compose CLI, port list). */
  readonly detail: string;
  /** How to fix it, when it failed. */
  readonly fix?: string;
  /** For 'ports': the taken ports. */
  readonly takenPorts?: readonly number[];
}

export interface PrerequisiteReport {
  readonly ok: boolean;
  readonly checks: readonly PrerequisiteCheck[];
  readonly tookMs: number;
}

export async function checkPrerequisites(t: ClusterTopology, docker: Docker, env: NodeJS.ProcessEnv = process.env): Promise<PrerequisiteReport> {
  const t0 = Date.now();
  const checks: PrerequisiteCheck[] = [];
  let engineOk = false;
  try {
    await pingDocker(docker);
    const v = await docker.version().catch(() => undefined);
    engineOk = true;
    checks.push({ id: 'docker', ok: true, detail: v ? `Docker Engine ${v.Version} (API ${v.ApiVersion})` : 'Docker Engine answers' });
  } catch (e) {
    const de = e instanceof DockerError ? e : undefined;
    const fix =
      de?.problem === 'noPermission'
        ? 'Add your user to the "docker" group (sudo usermod -aG docker $USER), then log in again.'
        : 'Start Docker: Docker Desktop on macOS/Windows, `sudo systemctl start docker` on Linux. Or set "pgHaWorkshop.dockerHost" to the engine\'s address.';
    checks.push({ id: 'docker', ok: false, detail: e instanceof Error ? e.message : String(e), fix });
  }
  try {
    const cli = await detectComposeCli(env);
    checks.push({ id: 'compose', ok: true, detail: `${cli.label} (Compose ${cli.version})` });
  } catch (e) {
    checks.push({
      id: 'compose',
      ok: false,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Install Docker Compose: it comes with Docker Desktop; on Linux install the docker-compose-plugin package (`docker compose`) or docker-compose (v1).',
    });
  }
  const ports = [...t.nodes.map((n) => n.hostPort), t.pgbouncer.hostPort];
  if (engineOk) {
    const conflicts = await findPortConflicts(t, docker);
    checks.push(
      conflicts.length === 0
        ? { id: 'ports', ok: true, detail: `ports ${ports.join(', ')} on ${t.host} are free (or held by this cluster)` }
        : { id: 'ports', ok: false, detail: conflicts.map((c) => `${c.port} (${c.service})${c.takenBy ? ` held by ${c.takenBy}` : ''}`).join(', '), fix: conflicts.map((c) => c.message).join(' '), takenPorts: conflicts.map((c) => c.port) },
    );
  } else {
    checks.push({ id: 'ports', ok: false, detail: `ports ${ports.join(', ')} not checked: Docker does not answer`, fix: 'Start Docker first, then check again.' });
  }
  return { ok: checks.every((c) => c.ok), checks, tookMs: Date.now() - t0 };
}
