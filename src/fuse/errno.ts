/*
 * The one place where errors become FUSE replies: an FsError is its POSIX code, negated; any
 * other error is a bug, logged with its stack and answered EIO, never a guessed code.
 */

import { ERRNO, FsError } from '../errors.js';

export function toErrno(err: unknown, log: (line: string) => void): number {
  if (err instanceof FsError) return -ERRNO[err.code];
  log(
    `scoutfs: internal error answered EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return -ERRNO.EIO;
}
