/*
 * What the control-channel subcommands share: find the mount of a path, and the inode of a file
 * (its st_ino, which the mount reports as our inode number).
 */

import { stat } from 'node:fs/promises';
import { findMount, request } from '../src/control/control-client.js';
import type { ControlRequest } from '../src/control/protocol.js';
import { UsageError } from '../src/errors.js';

export async function ask(path: string, req: ControlRequest): Promise<unknown> {
  return request(await findMount(path), req);
}

export async function inoOf(path: string): Promise<number> {
  const st = await stat(path).catch((err: Error) => {
    throw new UsageError(`${path}: ${err.message}`);
  });
  return st.ino;
}
