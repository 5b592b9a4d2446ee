// Compose failures as both CLIs print them, turned into messages that say what to do.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyComposeFailure, detectComposeCli, portVariable, type ComposeCli } from '../../src/docker/compose';
import { topologyFromEnv } from '../../src/core/topology';

const t = topologyFromEnv({});
const v1: ComposeCli = { version: 'v1', program: 'docker-compose', baseArgs: [], label: 'docker-compose' };
const v2: ComposeCli = { version: 'v2', program: 'docker', baseArgs: ['compose'], label: 'docker compose' };

describe('Compose failure messages', () => {
  test('port taken (v1): names the port, how to free it and the variable to change it', () => {
    const e = classifyComposeFailure(t, v1, 'start the cluster',
      'Creating pgha_postgres-primary_1 ... error\nERROR: for postgres-primary  Cannot start service postgres-primary: driver failed programming external connectivity on endpoint postgres-primary (abc): Bind for 127.0.0.1:5432 failed: port is already allocated');
    assert.equal(e.problem, 'portTaken');
    assert.equal(e.details.port, 5432);
    assert.match(e.message, /port 5432 on 127\.0\.0\.1 is already in use/);
    assert.match(e.message, /PGHA_PRIMARY_PORT=<free port>/);
    assert.match(e.message, /lsof -iTCP:5432/);
  });

  test('port taken (v2, address in use): names the PgBouncer port variable', () => {
    const e = classifyComposeFailure(t, v2, 'start the cluster',
      ' Container pgbouncer  Starting\nError response from daemon: driver failed programming external connectivity on endpoint pgbouncer (f00): Error starting userland proxy: listen tcp4 127.0.0.1:6432: bind: address already in use');
    assert.equal(e.problem, 'portTaken');
    assert.equal(e.details.port, 6432);
    assert.match(e.message, /PGHA_PGBOUNCER_PORT=<free port>/);
  });

  test('engine down and socket not permitted', () => {
    assert.equal(classifyComposeFailure(t, v2, 'start the cluster', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?').problem, 'notRunning');
    assert.equal(classifyComposeFailure(t, v1, 'start the cluster', "ERROR: Couldn't connect to Docker daemon at http+docker://localhost - is it running?").problem, 'notRunning');
    const p = classifyComposeFailure(t, v2, 'start the cluster', 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: permission denied');
    assert.equal(p.problem, 'noPermission');
    assert.match(p.message, /usermod -aG docker/);
  });

  test('image not available: says which images and the variables that choose them', () => {
    const e = classifyComposeFailure(t, v1, 'start the cluster', 'Pulling postgres-primary (postgres:15)...\nGet "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host');
    assert.equal(e.problem, 'imageMissing');
    assert.match(e.message, /PGHA_POSTGRES_IMAGE/);
    assert.match(e.message, /postgres:15/);
  });

  test('anything else keeps the last lines of Compose output', () => {
    const e = classifyComposeFailure(t, v2, 'remove the cluster', 'line 1\nsomething odd happened');
    assert.equal(e.problem, 'other');
    assert.match(e.message, /something odd happened/);
  });

  test('port variables follow the topology', () => {
    const custom = topologyFromEnv({ PGHA_REPLICA2_PORT: '25434' });
    assert.equal(portVariable(custom, 25434), 'PGHA_REPLICA2_PORT');
    assert.equal(portVariable(custom, 5433), 'PGHA_REPLICA1_PORT');
    assert.equal(portVariable(custom, 1234), undefined);
  });

  test('PGHA_COMPOSE_CLI forcing a CLI that is not installed is a clear error', async () => {
    await assert.rejects(detectComposeCli({ PATH: '/nonexistent', PGHA_COMPOSE_CLI: 'v2' }), /PGHA_COMPOSE_CLI=v2 but `docker compose version` does not answer/);
  });
});
