/*
 * Empty the kernel's page, dentry and inode caches: `sync`, then 3 into drop_caches.
 *
 * Dropping dentries makes every FUSE mount forget its names, so the next stat of each file is a
 * LOOKUP that reaches the serving process, whatever the entry and attribute timeouts, and the
 * next read of a file comes from its filesystem, not from memory. Needs root; where the write
 * is refused the caller says so in its report instead of failing.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** True if the caches were dropped. */
export function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}
