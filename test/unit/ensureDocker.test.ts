// The decisions of scripts/ensure-docker.sh, each on a fake machine: a PATH holding only stub
// programs (docker, dockerd, apt-get, id, docker-compose, systemctl ...) plus the few shell tools
// the script uses. The stubs keep their state in files, so "apt-get install docker.io" really puts
// a docker and a dockerd on the fake PATH, and "dockerd" really makes "docker info" answer.
// The real engine is exercised by the integration tests. Waits are generous: the machine may be loaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';

const SCRIPT = path.resolve(__dirname, '../../scripts/ensure-docker.sh');
const TOOLS = ['bash', 'sh', 'grep', 'tail', 'head', 'seq', 'sleep', 'dirname', 'tr', 'cat', 'touch', 'rm', 'cp', 'chmod', 'mkdir', 'ls', 'env'];
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function which(tool: string): string {
  for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (fs.existsSync(path.join(d, tool))) return path.join(d, tool);
  throw new Error(`${tool} not found`);
}

/** Stub sources; $S is the state directory, $B the fake bin directory. */
const STUBS: Record<string, string> = {
  // docker info answers when the engine is up; else prints the configured complaint.
  docker: `
echo "docker $*" >>"$S/calls"
case "$1 $2" in
  "info "*|"info") [ -f "$S/engine-up" ] && exit 0; cat "$S/info-error" >&2 2>/dev/null || echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
  "version "*) [ -f "$S/engine-up" ] && { echo 20.10.24; exit 0; }; exit 1 ;;
  "compose version") [ -f "$S/compose-v2" ] && { echo "Docker Compose version v2.29.1"; exit 0; }; echo "docker: 'compose' is not a docker command." >&2; exit 1 ;;
  "context show") echo "\${CTX:-default}"; exit 0 ;;
  "context inspect") echo "\${CTX_HOST:-unix:///var/run/docker.sock}"; exit 0 ;;
  "image inspect") exit 0 ;;
esac
exit 0`,
  dockerd: `echo "dockerd $*" >>"$S/calls"; [ -f "$S/dockerd-broken" ] || touch "$S/engine-up"`,
  'docker-compose': `echo "1.29.2"`,
  // apt-get install really installs: docker.io brings docker + dockerd (+ a started engine when systemd would start it).
  'apt-get': `
echo "apt-get $*" >>"$S/apt"
for p in "$@"; do
  case "$p" in
    docker.io) cp "$STUBS/docker" "$STUBS/dockerd" "$B/" ;;
    docker-compose) cp "$STUBS/docker-compose" "$B/" ;;
  esac
done`,
  id: `
case "$1" in
  -u) echo "\${FAKE_UID:-0}" ;;
  -un) echo "\${FAKE_USER:-root}" ;;
  -nG) if [ -n "$2" ]; then echo "\${FAKE_GROUPS_DB:-users}"; else echo "\${FAKE_GROUPS_SESSION:-users}"; fi ;;
esac`,
  systemctl: `echo "systemctl $*" >>"$S/calls"; [ "$1 $2" = "start docker" ] && touch "$S/engine-up"`,
  setsid: `"$@"`,
  'dockerd-rootless.sh': `exit 0`,
};

interface Machine {
  /** stub programs on the fake PATH */
  programs: string[];
  engineUp?: boolean;
  composeV2?: boolean;
  infoError?: string;
  dockerdBroken?: boolean;
  env?: Record<string, string>;
}

function run(m: Machine): { code: number; out: string; err: string; apt: string; calls: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-ensure-docker-'));
  dirs.push(root);
  const bin = path.join(root, 'bin');
  const state = path.join(root, 'state');
  const stubs = path.join(root, 'stubs');
  for (const d of [bin, state, stubs]) fs.mkdirSync(d);
  for (const t of TOOLS) fs.symlinkSync(which(t), path.join(bin, t));
  for (const [name, body] of Object.entries(STUBS)) {
    fs.writeFileSync(path.join(stubs, name), `#!${which('bash')}\n${body}\n`, { mode: 0o755 });
  }
  for (const p of m.programs) fs.copyFileSync(path.join(stubs, p), path.join(bin, p));
  if (m.engineUp) fs.writeFileSync(path.join(state, 'engine-up'), '');
  if (m.composeV2) fs.writeFileSync(path.join(state, 'compose-v2'), '');
  if (m.dockerdBroken) fs.writeFileSync(path.join(state, 'dockerd-broken'), '');
  if (m.infoError) fs.writeFileSync(path.join(state, 'info-error'), m.infoError);
  const r = spawnSync(which('bash'), [SCRIPT, '--engine-only'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: bin, HOME: root, S: state, B: bin, STUBS: stubs, PGHA_DOCKERD_LOG: path.join(root, 'dockerd.log'), PGHA_DOCKERD_WAIT: '60', ...m.env },
  });
  const read = (f: string) => (fs.existsSync(path.join(state, f)) ? fs.readFileSync(path.join(state, f), 'utf8') : '');
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, apt: read('apt'), calls: read('calls') };
}

const NO_ROOT = { FAKE_UID: '1000', FAKE_USER: 'ana' };
const PERMISSION = 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info": dial unix /var/run/docker.sock: connect: permission denied';

describe('ensure-docker.sh: the docker CLI is missing', () => {
  test('root with apt: installs docker.io and docker-compose, then the engine answers', () => {
    const r = run({ programs: ['apt-get', 'id', 'systemctl'] });
    assert.equal(r.code, 0, r.err);
    assert.match(r.apt, /install .*docker\.io docker-compose/);
    assert.match(r.out, /Docker engine 20\.10\.24 answers/);
    assert.match(r.out, /Compose v1: 1\.29\.2/);
  });
  test('not root: says the exact sudo command', () => {
    const r = run({ programs: ['apt-get', 'id'], env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.equal(r.apt, '');
    assert.match(r.err, /Docker is not installed, and installing it needs root\. Run: sudo apt-get install -y docker\.io docker-compose && sudo usermod -aG docker ana/);
  });
  test('no apt-get: points at Docker Engine / Docker Desktop', () => {
    const r = run({ programs: ['id'] });
    assert.equal(r.code, 1);
    assert.match(r.err, /no apt-get\. Install Docker Engine .*Docker Desktop/);
  });
});

describe('ensure-docker.sh: a docker CLI but no engine installed', () => {
  test('root with apt: installs docker.io and starts dockerd (no systemd)', () => {
    const r = run({ programs: ['docker', 'apt-get', 'id', 'setsid'], composeV2: true });
    assert.equal(r.code, 0, r.err);
    assert.match(r.apt, /install .*docker\.io/);
    assert.match(r.out, /a docker CLI but no Docker engine is installed: installing docker\.io/);
    assert.match(r.calls, /^dockerd/m);
    assert.match(r.out, /Compose v2: Docker Compose version v2\.29\.1/);
  });
  test('not root: says to install the engine with sudo', () => {
    const r = run({ programs: ['docker', 'apt-get', 'id'], env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.equal(r.apt, '');
    assert.match(r.err, /a docker CLI is installed but no Docker engine \(no dockerd\)\. Install one: sudo apt-get install -y docker\.io/);
  });
});

describe('ensure-docker.sh: the engine is installed but stopped', () => {
  test('root with systemd: systemctl start docker, nothing installed', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'apt-get', 'id', 'systemctl'] });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.apt, '');
    assert.match(r.calls, /systemctl start docker/);
  });
  test('root without systemd: starts dockerd in the background', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'apt-get', 'id', 'setsid'] });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /starting dockerd \(log: .*dockerd\.log\)/);
  });
  test('root, dockerd never answers: fails after the wait and names the log', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'id', 'setsid'], dockerdBroken: true, env: { PGHA_DOCKERD_WAIT: '2' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /dockerd did not answer within 2 s; see .*dockerd\.log/);
  });
  test('not root: says sudo systemctl start docker', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'apt-get', 'id'], env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.calls, /^dockerd/m);
    assert.match(r.err, /the Docker engine is installed but not running .*Start it: sudo systemctl start docker/);
  });
  test('another engine chosen (DOCKER_HOST): says to start that one, changes nothing here', () => {
    const r = run({ programs: ['docker', 'dockerd', 'id', 'setsid', 'apt-get'], env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } });
    assert.equal(r.code, 1);
    assert.equal(r.apt, '');
    assert.match(r.err, /no Docker engine answers at tcp:\/\/127\.0\.0\.1:2375 \(DOCKER_HOST\)/);
  });
  test('the current docker context (Colima) is named', () => {
    const r = run({ programs: ['docker', 'id'], env: { ...NO_ROOT, CTX: 'colima', CTX_HOST: 'unix:///home/ana/.colima/default/docker.sock' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /no Docker engine answers at unix:\/\/\/home\/ana\/\.colima\/default\/docker\.sock \(docker context colima\).*colima start/);
  });
  test('rootless Docker installed but not running: systemctl --user start docker and DOCKER_HOST', () => {
    const r = run({ programs: ['docker', 'id', 'dockerd-rootless.sh'], env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.match(r.err, /no rootless Docker engine answers .*systemctl --user start docker, and export DOCKER_HOST=unix:\/\//);
  });
});

describe('ensure-docker.sh: the socket refuses the user', () => {
  test('not in the docker group: the usermod command and what comes after it', () => {
    const r = run({ programs: ['docker', 'dockerd', 'id'], infoError: PERMISSION, env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.match(r.err, /the Docker socket refuses user ana .*sudo usermod -aG docker ana, then log out and in \(or run: newgrp docker\)/);
  });
  test('in the docker group but not this session: log out and in', () => {
    const r = run({ programs: ['docker', 'dockerd', 'id'], infoError: PERMISSION, env: { ...NO_ROOT, FAKE_GROUPS_DB: 'ana docker' } });
    assert.equal(r.code, 1);
    assert.match(r.err, /ana is in the docker group, but this login session started before that\. Log out and in \(or run: newgrp docker\)/);
  });
});

describe('ensure-docker.sh: Compose', () => {
  test('v1 only: uses docker-compose', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'id'], engineUp: true });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Compose v1: 1\.29\.2/);
  });
  test('v2 only: uses docker compose', () => {
    const r = run({ programs: ['docker', 'dockerd', 'id'], engineUp: true, composeV2: true });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Compose v2: Docker Compose version v2\.29\.1/);
  });
  test('both: prefers v2, as scripts/compose.sh does', () => {
    const r = run({ programs: ['docker', 'dockerd', 'docker-compose', 'id'], engineUp: true, composeV2: true });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Compose v2/);
  });
  test('neither, root with apt: installs docker-compose', () => {
    const r = run({ programs: ['docker', 'dockerd', 'apt-get', 'id'], engineUp: true });
    assert.equal(r.code, 0, r.err);
    assert.match(r.apt, /install .*docker-compose/);
    assert.match(r.out, /Compose v1/);
  });
  test('neither, not root: the exact install command', () => {
    const r = run({ programs: ['docker', 'dockerd', 'apt-get', 'id'], engineUp: true, env: NO_ROOT });
    assert.equal(r.code, 1);
    assert.match(r.err, /Docker Compose is missing\. Install it: sudo apt-get install -y docker-compose/);
  });
});
