// Which engine the extension and the Compose CLI talk to: setting, DOCKER_HOST, docker context
// (as the docker CLI stores it on disk), default socket; and both sides get the same answer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnvFor, DEFAULT_DOCKER_HOST, describeEndpoint, dockerodeOptions, resolveDockerEndpoint } from '../../src/docker/endpoint';
import { createDockerClient, endpointOf } from '../../src/docker/engine';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-docker-config-'));
after(() => fs.rmSync(home, { recursive: true, force: true }));
const configDir = path.join(home, '.docker');

/** Writes a context the way `docker context create NAME --docker host=HOST` does. */
function addContext(dir: string, name: string, host: string): void {
  const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  fs.mkdirSync(meta, { recursive: true });
  fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
}
function useContext(dir: string, name: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: {}, currentContext: name }));
}

const COLIMA = 'unix:///home/ana/.colima/default/docker.sock';
const DESKTOP = 'unix:///home/ana/.docker/desktop/docker.sock';
addContext(configDir, 'colima', COLIMA);
addContext(configDir, 'desktop-linux', DESKTOP);

describe('Docker endpoint resolution', () => {
  test('nothing set: the default local socket', () => {
    const e = resolveDockerEndpoint({ env: {}, homeDir: fs.mkdtempSync(path.join(home, 'empty-')) });
    assert.deepEqual(e, { host: DEFAULT_DOCKER_HOST, source: 'default' });
  });
  test('the current context of config.json (Colima)', () => {
    useContext(configDir, 'colima');
    assert.deepEqual(resolveDockerEndpoint({ env: {}, homeDir: home }), { host: COLIMA, source: 'context', context: 'colima' });
  });
  test('DOCKER_CONTEXT wins over config.json; DOCKER_CONFIG moves the folder', () => {
    useContext(configDir, 'colima');
    assert.equal(resolveDockerEndpoint({ env: { DOCKER_CONTEXT: 'desktop-linux' }, homeDir: home }).host, DESKTOP);
    assert.equal(resolveDockerEndpoint({ env: { DOCKER_CONFIG: configDir }, homeDir: '/nonexistent' }).host, COLIMA);
  });
  test('the "default" context, or one that does not exist: the default socket', () => {
    useContext(configDir, 'default');
    assert.equal(resolveDockerEndpoint({ env: {}, homeDir: home }).source, 'default');
    assert.equal(resolveDockerEndpoint({ env: { DOCKER_CONTEXT: 'gone' }, homeDir: home }).source, 'default');
  });
  test('DOCKER_HOST wins over the context (rootless Docker)', () => {
    useContext(configDir, 'colima');
    const e = resolveDockerEndpoint({ env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, homeDir: home });
    assert.deepEqual(e, { host: 'unix:///run/user/1000/docker.sock', source: 'DOCKER_HOST' });
  });
  test('the pgHaWorkshop.dockerHost setting wins over everything; a bare path is a socket', () => {
    const e = resolveDockerEndpoint({ setting: ' tcp://127.0.0.1:2375 ', env: { DOCKER_HOST: 'unix:///x.sock', DOCKER_CONTEXT: 'colima' }, homeDir: home });
    assert.deepEqual(e, { host: 'tcp://127.0.0.1:2375', source: 'setting' });
    assert.equal(resolveDockerEndpoint({ setting: '/var/run/other.sock', env: {} }).host, 'unix:///var/run/other.sock');
    assert.match(describeEndpoint(e), /tcp:\/\/127\.0\.0\.1:2375 \(setting pgHaWorkshop\.dockerHost\)/);
  });
});

describe('dockerode and the Compose CLI reach the same engine', () => {
  test('dockerode options per scheme', () => {
    assert.deepEqual(dockerodeOptions({ host: COLIMA, source: 'context' }), { socketPath: '/home/ana/.colima/default/docker.sock' });
    assert.deepEqual(dockerodeOptions({ host: 'tcp://10.0.0.5:2376', source: 'setting' }), { host: '10.0.0.5', port: 2376, protocol: 'http' });
    assert.deepEqual(dockerodeOptions({ host: 'ssh://ana@build', source: 'context' }), { host: 'build', port: 22, protocol: 'ssh', username: 'ana' });
    assert.deepEqual(dockerodeOptions({ host: 'npipe:////./pipe/docker_engine', source: 'default' }), { socketPath: '//./pipe/docker_engine' });
  });
  test('the Compose environment carries the same host (v1 ignores contexts), without DOCKER_CONTEXT', () => {
    const env = cliEnvFor({ host: COLIMA, source: 'context', context: 'colima' }, { PATH: '/bin', DOCKER_CONTEXT: 'colima' });
    assert.deepEqual(env, { PATH: '/bin', DOCKER_HOST: COLIMA });
    assert.deepEqual(cliEnvFor({ host: DEFAULT_DOCKER_HOST, source: 'default' }, { PATH: '/bin' }), { PATH: '/bin' });
  });
  test('a client from the setting remembers its endpoint, and dockerode uses it', () => {
    const d = createDockerClient('unix:///tmp/pgha-test.sock', {});
    assert.deepEqual(endpointOf(d), { host: 'unix:///tmp/pgha-test.sock', source: 'setting' });
    assert.equal((d as unknown as { modem: { socketPath: string } }).modem.socketPath, '/tmp/pgha-test.sock');
    const fromContext = createDockerClient('', { DOCKER_CONFIG: configDir, DOCKER_CONTEXT: 'colima' });
    assert.equal((fromContext as unknown as { modem: { socketPath: string } }).modem.socketPath, '/home/ana/.colima/default/docker.sock');
  });
});
