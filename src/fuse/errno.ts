/*
 * The one place where errors become FUSE replies: an FsError is its POSIX code, negated; any
 * other error is a bug, logged with its stack and answered EIO, never a guessed code. An EIO
 * that an FsError asked for is logged too (a device that failed, a mount that is closing): an
 * application that sees EIO must find its cause in the mount log. At most EIO_LOG_BURST such
 * lines per EIO_LOG_WINDOW_MS, then one line saying how many were left out.
 */

import { ERRNO, FsError } from '../errors.js';

const EIO_LOG_BURST = 20;
const EIO_LOG_WINDOW_MS = 10_000;

export type ErrnoOf = (err: unknown) => number;

/** The reply code of an error, logging what an application would need to explain an EIO. */
export function errnoReplies(log: (line: string) => void, now: () => number = Date.now): ErrnoOf {
  let windowStart = -Infinity;
  let logged = 0;
  let dropped = 0;
  const eioLine = (line: string) => {
    const t = now();
    if (t - windowStart >= EIO_LOG_WINDOW_MS) {
      if (dropped > 0) log(`scoutfs: ${dropped} more EIO answers not logged`);
      windowStart = t;
      logged = 0;
      dropped = 0;
    }
    if (logged < EIO_LOG_BURST) {
      logged++;
      log(line);
    } else dropped++;
  };
  return (err) => {
    if (err instanceof FsError) {
      if (err.code === 'EIO') eioLine(`scoutfs: answered ${err.message}`);
      return -ERRNO[err.code];
    }
    eioLine(
      `scoutfs: internal error answered EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return -ERRNO.EIO;
  };
}
