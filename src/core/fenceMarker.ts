// A durable fence: a node fenced by a failover stays fenced until someone decides what it becomes
// (rejoin it as a replica, or start it as it is and accept a second primary). The mark is a file in
// the node's own data directory, `pgha-fenced`, so it survives the extension, the window and the
// machine restarting, and the node's entry script (cluster/setup-primary.sh, setup-replica.sh)
// refuses to start PostgreSQL while it is there: `docker start` and `docker compose up` from a
// terminal honour it too.
//
// The container is stopped when it is fenced, so the file is written with the engine's archive API
// (`docker cp` works on a stopped container). Lifting the fence writes the file empty: the entry
// script removes an empty mark and starts normally (a tar cannot delete a file). The rejoin helper
// removes it after the node has become a standby.
//
// API (no vscode):
//   markFenced(ctx, node, reason)   writes the mark (node stopped or running)
//   readFence(ctx, node)            → FenceMark | undefined
//   readDataDirFile(ctx, node, f)   → a file of the node's data directory (stopped or running)
//   liftFence(ctx, node)            the next start runs PostgreSQL as it is
//   fencedNodes(ctx)                → the fenced nodes of the cluster (Start Cluster asks about them)
//   FENCE_FILE                      its name in PGDATA
import type { NodeActionContext } from './nodeActions';
import type { NodeKey } from './topology';

export const FENCE_FILE = 'pgha-fenced';
const DATA_DIR = '/var/lib/postgresql/data';

export interface FenceMark {
  readonly at: number;
  readonly reason: string;
}

/** A one-file ustar archive (what the engine's archive API takes). Pure. */
export function tarOneFile(name: string, content: string, mtimeSec = Math.floor(Date.now() / 1000)): Buffer {
  const data = Buffer.from(content, 'utf8');
  const h = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'ascii');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(data.length, 12), 124, 12);
  put(oct(mtimeSec, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512, 0);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024, 0)]);
}

/** Content of the first file of a tar archive. Pure. */
export function firstFileOfTar(tar: Buffer): string | undefined {
  if (tar.length < 512) return undefined;
  const size = parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
  return tar.subarray(512, 512 + size).toString('utf8');
}

/** The mark's text (first line: ISO time; then the reason). Pure. */
export function formatFenceMark(m: FenceMark): string {
  return `${new Date(m.at).toISOString()}\n${m.reason}\n`;
}

export function parseFenceMark(text: string): FenceMark | undefined {
  if (!text.trim()) return undefined;
  const [first, ...rest] = text.split('\n');
  const at = Date.parse(first.trim());
  return { at: Number.isNaN(at) ? 0 : at, reason: (Number.isNaN(at) ? text : rest.join('\n')).trim() };
}

function containerOf(ctx: Pick<NodeActionContext, 'topology'>, node: NodeKey | string): string {
  const n = ctx.topology.nodes.find((x) => x.key === node || x.service === node || x.container === node);
  if (!n) throw new Error(`"${node}" is not a PostgreSQL node of this cluster.`);
  return n.container;
}

async function put(ctx: NodeActionContext, node: string, content: string): Promise<void> {
  await ctx.containers.docker.getContainer(containerOf(ctx, node)).putArchive(tarOneFile(FENCE_FILE, content), { path: DATA_DIR });
}

export async function markFenced(ctx: NodeActionContext, node: string, reason: string): Promise<void> {
  await put(ctx, node, formatFenceMark({ at: Date.now(), reason }));
}

export async function liftFence(ctx: NodeActionContext, node: string): Promise<void> {
  if (!(await readFence(ctx, node))) return;
  await put(ctx, node, '');
}

export async function readFence(ctx: NodeActionContext, node: string): Promise<FenceMark | undefined> {
  const text = await readDataDirFile(ctx, node, FENCE_FILE);
  return text === undefined ? undefined : parseFenceMark(text);
}

/**
 * A file of the node's data directory through the engine's archive API (works on a stopped
 * container, like `docker cp`); undefined when the file does not exist.
 */
export async function readDataDirFile(ctx: Pick<NodeActionContext, 'topology' | 'containers'>, node: string, file: string): Promise<string | undefined> {
  try {
    const stream = await ctx.containers.docker.getContainer(containerOf(ctx, node)).getArchive({ path: `${DATA_DIR}/${file}` });
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    return firstFileOfTar(Buffer.concat(chunks)) ?? '';
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'statusCode' in e ? Number((e as { statusCode: unknown }).statusCode) : undefined;
    if (code === 404) return undefined;
    throw e;
  }
}

/** The nodes whose containers exist and carry a fence mark. */
export async function fencedNodes(ctx: NodeActionContext): Promise<{ readonly key: NodeKey; readonly service: string; readonly container: string; readonly mark: FenceMark }[]> {
  const found = await Promise.all(
    ctx.topology.nodes.map(async (n) => {
      const mark = await readFence(ctx, n.key).catch(() => undefined);
      return mark ? { key: n.key, service: n.service, container: n.container, mark } : undefined;
    }),
  );
  return found.filter((x): x is NonNullable<typeof x> => x !== undefined);
}

/** Words for the learner: what starting a fenced node as it is does. */
export function fenceConsequence(container: string): string {
  return `${container} was the primary before the failover: started as it is, it accepts writes again beside the new primary (split brain), and what is written to it is lost when it later rejoins.`;
}
