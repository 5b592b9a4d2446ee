// Docker's log stream of a container without a TTY is multiplexed: each frame has an 8-byte header
// (stream type, 3 zero bytes, big-endian payload length). No dockerode import: callers that only
// read logs do not load the Docker client library.

/** The text of a multiplexed log buffer, stdout and stderr interleaved as they came. */
export function demuxDockerLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(parts).toString('utf8');
}
