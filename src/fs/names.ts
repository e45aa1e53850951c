/*
 * Names and paths as the filesystem takes them.
 *
 * A name is any bytes but '/' and NUL, at most 255 of them (ENAMETOOLONG past that); "." and
 * ".." are never stored. FUSE hands us absolute paths; they are split here.
 *
 * Paths, names, xattr names and symlink targets travel through the Fs API as byte strings: one
 * char per byte (latin1), so every name survives exactly, whether or not it is UTF-8. Our
 * patched binding speaks them natively; the stock binding's UTF-8 strings are converted at its
 * edge (stock-binding.ts). `bytesOf` and `byteString` are the two directions, and `shown`
 * turns a byte string back into readable text for messages and the control channel.
 */

import { FsError } from '../errors.js';
import { LIMITS } from '../format/layout.js';

/** A char that is not one byte: the caller forgot to make a byte string. */
const NOT_A_BYTE = /[\u0100-\uffff]/;

export function nameBytes(name: string): Buffer {
  const b = bytesOf(name);
  if (b.length > LIMITS.nameMax) {
    throw new FsError('ENAMETOOLONG', `name of ${b.length} bytes; the limit is ${LIMITS.nameMax}`);
  }
  if (b.length === 0 || b.includes(0x2f) || b.includes(0))
    throw new FsError('EINVAL', `invalid name "${shown(name)}"`);
  if (name === '.' || name === '..') throw new FsError('EINVAL', `"${name}" cannot be created or removed`);
  return b;
}

/** The bytes of a byte string. */
export function bytesOf(s: string): Buffer {
  // a bug, not the caller's errno: latin1 would silently drop the char's high bits
  if (NOT_A_BYTE.test(s)) throw new Error(`"${s}" is not a byte string (one char per byte)`);
  return Buffer.from(s, 'latin1');
}

/** Bytes as a byte string. */
export function byteString(b: Buffer): string {
  return b.toString('latin1');
}

/** A byte string as text, its bytes read as UTF-8 (for messages and the control channel). */
export function shown(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** "/a/b/c" → { parent: "/a/b", name: "c" }. */
export function splitPath(path: string): { parent: string; name: string } {
  const i = path.lastIndexOf('/');
  return { parent: i <= 0 ? '/' : path.slice(0, i), name: path.slice(i + 1) };
}

export function pathComponents(path: string): string[] {
  return path.split('/').filter((c) => c.length > 0);
}
