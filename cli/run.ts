/*
 * How every subcommand ends: the result, or a one-line error and a non-zero exit.
 *
 * FsErrors and usage errors are expected failures: their message is printed as
 * "scoutfs <command>: <message>" and the process exits 1 (2 for usage). Anything else is a bug;
 * it is printed the same way, with the stack only when SCOUTFS_DEBUG is set.
 */

import { FsError, UsageError } from '../src/errors.js';

export type Action<A extends unknown[]> = (...args: A) => Promise<void>;

export function run<A extends unknown[]>(command: string, action: Action<A>): Action<A> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      const usage = err instanceof UsageError;
      const known = usage || err instanceof FsError;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`scoutfs ${command}: ${known ? message : `internal error: ${message}`}\n`);
      if (!known && process.env.SCOUTFS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = usage ? 2 : 1;
    }
  };
}
