/*
 * The CLI's side of the control channel: find the mount that serves a path, send one request,
 * collect the reply (and any streamed walk entries).
 */

import { createConnection } from 'node:net';
import { type ErrnoName, FsError, UsageError } from '../errors.js';
import type { ControlReply, ControlRequest } from './protocol.js';
import { type MountEntry, mountOf } from './registry.js';

export async function findMount(path: string): Promise<MountEntry> {
  let m: MountEntry | null;
  try {
    m = await mountOf(path);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
  if (!m) throw new UsageError(`${path} is not in a mounted scoutfs filesystem`);
  return m;
}

export function request(
  m: MountEntry,
  req: ControlRequest,
  onEntries?: (e: { major: number; minor: number; ino: number }[]) => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(m.socket);
    let buf = '';
    let done = false;
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const r = JSON.parse(buf.slice(0, nl)) as ControlReply;
        buf = buf.slice(nl + 1);
        if ('entries' in r) onEntries?.(r.entries);
        else if (r.ok) {
          done = true;
          resolve(r.result);
        } else {
          done = true;
          reject(new FsError(r.code as ErrnoName, r.message.replace(/^[A-Z0-9]+: /, '')));
        }
      }
    });
    conn.on('error', (err) =>
      reject(new FsError('EIO', `control socket of ${m.mountpoint}: ${err.message}`)),
    );
    conn.on('close', () => {
      if (!done) reject(new FsError('EIO', `mount at ${m.mountpoint} closed the control channel`));
    });
  });
}
