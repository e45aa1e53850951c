/*
 * Names and paths as the filesystem takes them.
 *
 * A name is any bytes but '/' and NUL, at most 255 of them (ENAMETOOLONG past that); "." and
 * ".." are never stored. FUSE hands us absolute paths; they are split here.
 */

import { FsError } from '../errors.js';
import { LIMITS } from '../format/layout.js';

export function nameBytes(name: string): Buffer {
  const b = Buffer.from(name, 'utf8');
  if (b.length > LIMITS.nameMax) {
    throw new FsError('ENAMETOOLONG', `name of ${b.length} bytes; the limit is ${LIMITS.nameMax}`);
  }
  if (b.length === 0 || b.includes(0x2f) || b.includes(0))
    throw new FsError('EINVAL', `invalid name "${name}"`);
  if (name === '.' || name === '..') throw new FsError('EINVAL', `"${name}" cannot be created or removed`);
  return b;
}

/** "/a/b/c" → { parent: "/a/b", name: "c" }. */
export function splitPath(path: string): { parent: string; name: string } {
  const i = path.lastIndexOf('/');
  return { parent: i <= 0 ? '/' : path.slice(0, i), name: path.slice(i + 1) };
}

export function pathComponents(path: string): string[] {
  return path.split('/').filter((c) => c.length > 0);
}
