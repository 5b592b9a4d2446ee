// Docker's multiplexed log frames → text (src/docker/logFrames.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demuxDockerLogs } from '../../src/docker/logFrames';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

test('stdout and stderr frames are joined in order, headers dropped; a cut last frame keeps what arrived', () => {
  const buf = Buffer.concat([frame(1, 'LOG:  database system is ready\n'), frame(2, 'FATAL:  could not connect\n'), frame(1, 'dé')]);
  assert.equal(demuxDockerLogs(buf), 'LOG:  database system is ready\nFATAL:  could not connect\ndé');
  assert.equal(demuxDockerLogs(buf.subarray(0, buf.length - 1)), 'LOG:  database system is ready\nFATAL:  could not connect\nd\ufffd');
  assert.equal(demuxDockerLogs(Buffer.alloc(0)), '');
});
