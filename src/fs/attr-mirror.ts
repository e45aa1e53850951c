/*
 * A copy of inode attributes kept outside the filesystem (the FUSE binding's attribute cache,
 * which answers getattr on the binding's own threads without a round trip into JS), and what
 * the filesystem owes it to keep it exact rather than merely recent.
 *
 * The copy holds paths with their inode numbers and inodes with their attributes. It may answer
 * at any moment, from any thread, so the filesystem tells it before a change can be seen:
 * `stale` the inodes every event of a change names, before the events are appended (the
 * answer to the change goes out after that; the copy holds their attributes back until
 * `refresh`); `forget` every path the path cache forgets (a
 * directory's whole subtree with it; the copy lets go of them with the `stale` that follows,
 * when the change's directories are pending, so no one sees a name gone before its change),
 * and `clear` whenever that cache is cleared; `named`
 * tells it the paths a change adds. Once the change
 * has folded, still under the exclusive lock, `refresh` puts back the new attributes of what it
 * had held. `off` when the filesystem fails: from then on only the filesystem answers (EIO).
 */

import type { InodeRecord } from '../format/item-schema.js';

export interface AttrMirror {
  /** Before a change to these inodes becomes visible. */
  stale(inos: readonly number[]): void;
  /**
   * `path` names `ino` once the change being made is folded; `fresh`: a directory the change
   * creates, so the copy knows every name in it (none yet, then each one a change adds).
   */
  named(path: string, ino: number, fresh: boolean): void;
  /** `path` no longer names what it did; `subtree`: nor does any path under it. */
  forget(path: string, subtree: boolean): void;
  /** Nothing held is sure any more. */
  clear(): void;
  /**
   * After a change folded: put back the attributes of the stale inodes it held and of the
   * inodes it named, as `now` has them. `failed`: the change failed, maybe after some of its
   * events were appended (in steps) and some of its names let go of; what the copy holds is
   * then no longer sure. Always under the exclusive lock.
   */
  refresh(now: (ino: number) => InodeRecord | undefined, failed?: boolean): void;
  /** Hold nothing and answer nothing from now on. */
  off(): void;
}
