/*
 * The per-mount control channel: a unix socket the CLI finds through the registry, serving
 * what scoutfs does with ioctls: walk-inodes, stat, statfs, ino-path, sync, unmount.
 *
 * walk-inodes first commits what is pending, so a walk sees every change made before it (FUSE
 * does not pass sync(2) on), then shows only seqs up to the stable seq: below it every
 * transaction is durable, so an agent that remembers the last seq it saw misses nothing.
 */

import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { FsError } from '../errors.js';
import { shown } from '../fs/names.js';
import type { Node } from '../node/node.js';
import { indexEntryOf, seqIndexRange } from '../projections/seq-index.js';
import { type ControlReply, type ControlRequest, WALK_CHUNK } from './protocol.js';

export class ControlServer {
  private constructor(
    private readonly server: Server,
    private readonly conns: Set<Socket>,
  ) {}

  /** `counters`: the mount's own counters (names to numbers), beside the node's. */
  static async listen(
    socket: string,
    node: Node,
    onUnmount: () => void,
    counters: () => Record<string, number> = () => ({}),
  ): Promise<ControlServer> {
    // the run directory may not exist yet on a machine that never mounted (/run is a tmpfs)
    await mkdir(dirname(socket), { recursive: true, mode: 0o755 });
    await rm(socket, { force: true });
    const conns = new Set<Socket>();
    const server = createServer((conn) => {
      conns.add(conn);
      conn.on('close', () => conns.delete(conn));
      serve(conn, node, onUnmount, counters);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
    return new ControlServer(server, conns);
  }

  /** Stop listening; connections still open are cut after their reply had its chance. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    setTimeout(() => {
      for (const c of this.conns) c.destroy();
    }, 1000).unref();
    return closed;
  }
}

function serve(
  conn: Socket,
  node: Node,
  onUnmount: () => void,
  counters: () => Record<string, number>,
): void {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('error', () => conn.destroy());
  conn.on('data', (chunk: string) => {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    buf = '';
    const send = (r: ControlReply) => conn.write(`${JSON.stringify(r)}\n`);
    handle(JSON.parse(line) as ControlRequest, node, send, onUnmount, counters).then(
      (result) => {
        send({ ok: true, result });
        conn.end();
      },
      (err: Error) => {
        send({ ok: false, code: err instanceof FsError ? err.code : 'EIO', message: err.message });
        conn.end();
      },
    );
  });
}

async function handle(
  req: ControlRequest,
  node: Node,
  send: (r: ControlReply) => void,
  onUnmount: () => void,
  counters: () => Record<string, number>,
): Promise<unknown> {
  const fs = node.fs;
  switch (req.op) {
    case 'ping':
      return { pid: process.pid };
    case 'walk': {
      await fs.commit();
      // the stable seq first, then wait for the folds: every seq up to it is then in the index
      const stable = node.stableSeq;
      await fs.settled();
      const last = Math.min(req.last, stable);
      let entries: { major: number; minor: number; ino: number }[] = [];
      if (req.first <= last) {
        for await (const [key] of node.store.lsm.scan(seqIndexRange(req.index, req.first, last))) {
          entries.push(indexEntryOf(key));
          if (entries.length >= WALK_CHUNK) {
            send({ entries });
            entries = [];
          }
        }
      }
      if (entries.length) send({ entries });
      return { stableSeq: node.stableSeq };
    }
    case 'stat':
      return fs.getattr(req.ino);
    case 'statfs': {
      const u = await fs.usage();
      const sb = fs.sb;
      return {
        fsid: sb.fsid.toString('hex'),
        uuid: sb.uuid.toString('hex'),
        committedSeq: node.stableSeq,
        totalDataBlocks: u.totalBlocks,
        freeDataBlocks: u.freeBlocks,
        totalMetaBlocks: sb.metaBlocks,
        freeMetaBlocks: node.store.lsm.freeMetaBlocks,
        inodes: u.inodes,
        quorumCount: sb.quorumCount,
        logSlots: sb.logSlots,
        blockSize: sb.blockSize,
      };
    }
    case 'inoPath':
      // the filesystem's paths are byte strings; the channel is JSON, so they go as UTF-8 text
      return (await fs.inoPaths(req.ino)).map(shown);
    case 'sync':
      return { seq: await node.sync() };
    case 'counters':
      return counters();
    case 'unmount':
      setImmediate(onUnmount);
      return {};
  }
}
