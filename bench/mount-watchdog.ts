/*
 * The guard that unmounts what the mount benchmark mounted, whatever becomes of the bench.
 *
 * A signal handler in the bench cannot do it: under tsx a child that does not tell tsx it got
 * the signal within about 60 ms is killed (see measure.ts), and a clean scoutfs unmount takes
 * seconds. So the bench starts this detached process first, with the mount points, their
 * scratch directory and, as they start, the serving processes. It waits for the IPC channel
 * to close, which happens when the bench disconnects after its own orderly teardown or when the
 * bench dies in any way (Ctrl-C, SIGTERM, SIGKILL). Then it unmounts whatever is still mounted
 * (scoutfs through its CLI first, so it commits; anything stuck by aborting its connection),
 * kills servers that outlive their mount and removes the scratch directory. The scratch
 * directory is not the one run.ts removes on Ctrl-C, so that removal never walks into a mount.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Guarded {
  /** The mount point. */
  dir: string;
  /** For a scoutfs mount: its registry directory, so `scoutfs umount` can be asked first. */
  scoutfsRunDir?: string;
}

export interface WatchdogInput {
  scratch: string;
  mounts: Guarded[];
}

const CHILD = fileURLToPath(new URL('./mount-watchdog-child.ts', import.meta.url));

export class Watchdog {
  private constructor(private readonly child: ChildProcess) {}

  /** Start the guard and wait until it listens. */
  static async start(input: WatchdogInput): Promise<Watchdog> {
    const child = fork(CHILD, [JSON.stringify(input)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`mount watchdog exited (${code}) before starting`)));
    });
    // the channel must not keep the bench alive: if the bench ends without release(), the guard acts
    child.unref();
    child.channel?.unref();
    return new Watchdog(child);
  }

  /** A process serving one of the mounts: killed if it outlives its mount. */
  serving(pid: number): void {
    this.child.send({ pid });
  }

  /** The bench has unmounted everything itself: the guard checks, tidies and exits. */
  release(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
