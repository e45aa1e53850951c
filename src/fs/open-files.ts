/*
 * Which inodes are open, and which of those lost their last name while open.
 *
 * POSIX keeps an unlinked file alive until its last close: the filesystem marks such an inode
 * an orphan and deletes it at the last release (or the next mount after a crash). This is the
 * bookkeeping for that: open counts per inode, and the set of open inodes whose last name went
 * away, so the common close (nothing was unlinked) decides nothing and reads nothing.
 */

export class OpenFiles {
  private readonly counts = new Map<number, number>();
  private readonly unlinked = new Set<number>();

  opened(ino: number): void {
    this.counts.set(ino, (this.counts.get(ino) ?? 0) + 1);
  }

  isOpen(ino: number): boolean {
    return (this.counts.get(ino) ?? 0) > 0;
  }

  /** A name of the open `ino` went away: its last close must look whether it has any left. */
  lostName(ino: number): void {
    this.unlinked.add(ino);
  }

  /** One close of `ino`; true when it was the last and a name went away while it was open. */
  closed(ino: number): boolean {
    const n = (this.counts.get(ino) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(ino, n);
      return false;
    }
    this.counts.delete(ino);
    return this.unlinked.delete(ino);
  }
}
