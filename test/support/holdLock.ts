// Takes the cluster's operation lock and holds it until killed (the test kills it with SIGKILL to
// show that a crashed holder does not leave the lock stuck).
import { withOperationLock } from '../../src/core/operationLock';
import { containers, topology } from './cluster';

void withOperationLock({ topology, containers }, { holder: `holdLock.ts (pid ${process.pid})`, what: 'held by a process that will crash' }, () => new Promise<void>(() => setInterval(() => undefined, 1000)));
