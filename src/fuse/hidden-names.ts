/*
 * The names libfuse gives open files that lose their last name, kept out of the filesystem.
 *
 * libfuse 2 keeps a file that is unlinked (or renamed over) while open by renaming it to
 * ".fuse_hidden<node><counter>" in the same directory, and unlinks that name at the last
 * close. Passed through, the name shows in readdir and rmdir of the directory fails ENOTEMPTY,
 * which no local filesystem does. So the patched mount turns that rename into an unlink (the
 * filesystem keeps an open inode as an orphan until its last release, and a crash leaves it
 * to the next mount) and remembers here which inode libfuse means by the hidden name, so what
 * libfuse still sends by that name (fstat, fchmod, fsetxattr, open of /proc/PID/fd/N) reaches
 * it. Names are keyed by their directory's inode, so a rename of the directory keeps them. Once
 * the directory is removed libfuse has no path for the file at all: the ops that carry a
 * handle get a null path (flag_nullpath_ok in our fuse-native patch) and find it by handle.
 *
 * hard_remove would spare the rename but loses fstat and fchmod: the kernel sends their
 * GETATTR and SETATTR without the file handle, and libfuse answers ENOENT for a node it has
 * no name for before the filesystem hears of it.
 */

import type { Fs } from '../fs/fs.js';
import { splitPath } from '../fs/names.js';

/** The names libfuse's hide_node() makes: ".fuse_hidden%08x%08x". */
const HIDDEN_NAME = /^\.fuse_hidden[0-9a-f]{16}$/;

export class HiddenNames {
  private readonly inodes = new Map<string, number>();

  constructor(private readonly fs: Fs) {}

  /** Whether a rename to `path` may be libfuse hiding an open file. */
  static isHidden(path: string): boolean {
    return HIDDEN_NAME.test(splitPath(path).name);
  }

  /** Whether `path` may be one of the hidden names we made (ino tells for sure). */
  mayName(path: string): boolean {
    return this.inodes.size > 0 && HiddenNames.isHidden(path);
  }

  /** The inode libfuse calls `path`, or undefined when `path` is not a hidden name we made. */
  async ino(path: string): Promise<number | undefined> {
    if (!this.mayName(path)) return undefined;
    return this.inodes.get(await this.key(path));
  }

  /** libfuse renames `from`, open as `ino`, to the hidden `to`: unlink `from` instead. */
  async hide(from: string, to: string, ino: number): Promise<void> {
    const key = await this.key(to);
    await this.fs.unlink(from);
    this.inodes.set(key, ino);
  }

  /** libfuse unlinks a hidden name at the last close; false when `path` is not one of ours. */
  async unlink(path: string): Promise<boolean> {
    if (!this.mayName(path)) return false;
    return this.inodes.delete(await this.key(path));
  }

  /** The last handle on `ino` is gone and libfuse has no path left to unlink: drop its names. */
  forget(ino: number): void {
    for (const [key, i] of this.inodes) if (i === ino) this.inodes.delete(key);
  }

  private async key(path: string): Promise<string> {
    const { parent, name } = splitPath(path);
    return `${await this.fs.resolve(parent)}/${name}`;
  }
}
