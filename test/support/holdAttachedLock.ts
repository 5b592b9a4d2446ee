// Takes an attached cluster's operation lock from a second process (another window, another
// machine) and holds it until killed. argv[2]: the attached topology as JSON. Prints "held" once
// it holds the lock.
import { withOperationLock } from '../../src/core/operationLock';
import type { ClusterTopology } from '../../src/core/topology';
import { Containers, createDockerClient } from '../../src/docker/engine';

const topology = JSON.parse(process.argv[2]) as ClusterTopology;
// No Docker engine: an attached cluster's lock must not need one.
const containers = new Containers(createDockerClient('unix:///nonexistent/pgha-no-docker.sock'));
void withOperationLock({ topology, containers }, { holder: `holdAttachedLock.ts (pid ${process.pid})`, what: 'Drill held by another window', nodes: ['cascade-replica-b'] }, () => {
  console.log('held');
  return new Promise<void>(() => setInterval(() => undefined, 1000));
});
