/*
 * Order-preserving binary item keys for the LSM index.
 *
 * A key is   zone u8 | a u64 | type u8 | b u64 | c u64 | tail bytes
 * with integers big-endian, so comparing two keys with memcmp orders them by zone, then a, then
 * type, then b, c and tail. The zones put each kind of question in one contiguous range:
 *
 *   meta_seq index   (zone, a = meta_seq, b = ino)       walk-inodes meta_seq
 *   data_seq index   (zone, a = data_seq, b = ino)       walk-inodes data_seq
 *   fs items         (zone, a = ino, type, ...)          everything about one inode is adjacent
 *   orphans          (zone, a = ino)                     reclaimed at mount
 *   volume           (zone, a = record)                  inode-number reservation, inode count
 *   data allocation  (zone, a = first device block)      which inode owns each data extent;
 *                                                        the free-space map is its complement
 *
 * Within fs items: the inode itself, directory entries by name (tail = name bytes), readdir
 * positions (b = pos), link backrefs (b = parent dir, c = pos, tail = name), xattrs (tail =
 * name), the symlink target, and data extents keyed by their first logical block.
 */

export const ZONE = { metaSeq: 1, dataSeq: 2, fs: 3, orphan: 4, volume: 5, alloc: 6 } as const;
/** Records of the volume zone. */
export const VOLUME_RECORD = { inodeReservation: 1, inodeCount: 2 } as const;
export const FS_TYPE = {
  inode: 1,
  dirent: 2,
  readdir: 3,
  backref: 4,
  xattr: 5,
  symlink: 6,
  extent: 7,
} as const;

export interface Key {
  zone: number;
  a: number;
  type: number;
  b: number;
  c: number;
  tail: Uint8Array;
}

export const KEY_FIXED_BYTES = 26;
const EMPTY = new Uint8Array(0);
const TWO_32 = 2 ** 32;

export function encodeKey(zone: number, a: number, type = 0, b = 0, c = 0, tail: Uint8Array = EMPTY): Buffer {
  const buf = Buffer.allocUnsafe(KEY_FIXED_BYTES + tail.length);
  buf[0] = zone;
  putU64(buf, 1, a);
  buf[9] = type;
  putU64(buf, 10, b);
  putU64(buf, 18, c);
  if (tail.length > 0) buf.set(tail, KEY_FIXED_BYTES);
  return buf;
}

export function decodeKey(buf: Uint8Array): Key {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    zone: b[0]!,
    a: getU64(b, 1),
    type: b[9]!,
    b: getU64(b, 10),
    c: getU64(b, 18),
    tail: Buffer.from(b.subarray(KEY_FIXED_BYTES)),
  };
}

export const compareKeys = (x: Uint8Array, y: Uint8Array): number => Buffer.compare(x, y);

export const inodeKey = (ino: number) => encodeKey(ZONE.fs, ino, FS_TYPE.inode);
export const direntKey = (dir: number, name: Uint8Array) =>
  encodeKey(ZONE.fs, dir, FS_TYPE.dirent, 0, 0, name);
export const readdirKey = (dir: number, pos: number) => encodeKey(ZONE.fs, dir, FS_TYPE.readdir, pos);
export const backrefKey = (ino: number, dir: number, pos: number, name: Uint8Array) =>
  encodeKey(ZONE.fs, ino, FS_TYPE.backref, dir, pos, name);
export const xattrKey = (ino: number, name: Uint8Array) => encodeKey(ZONE.fs, ino, FS_TYPE.xattr, 0, 0, name);
export const symlinkKey = (ino: number) => encodeKey(ZONE.fs, ino, FS_TYPE.symlink);
export const extentKey = (ino: number, logical: number) => encodeKey(ZONE.fs, ino, FS_TYPE.extent, logical);
export const metaSeqKey = (seq: number, ino: number) => encodeKey(ZONE.metaSeq, seq, 0, ino);
export const dataSeqKey = (seq: number, ino: number) => encodeKey(ZONE.dataSeq, seq, 0, ino);
export const orphanKey = (ino: number) => encodeKey(ZONE.orphan, ino);
export const inodeReservationKey = () => encodeKey(ZONE.volume, VOLUME_RECORD.inodeReservation);
export const inodeCountKey = () => encodeKey(ZONE.volume, VOLUME_RECORD.inodeCount);
export const allocKey = (physical: number) => encodeKey(ZONE.alloc, physical);

/** Big-endian, byte by byte: keys are built on every item access, and this is their hot loop. */
function putU64(buf: Buffer, at: number, v: number): void {
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER))
    throw new RangeError(`key field ${v} is not a u64 we can hold`);
  const hi = Math.floor(v / TWO_32);
  const lo = v >>> 0;
  buf[at] = hi >>> 24;
  buf[at + 1] = (hi >>> 16) & 0xff;
  buf[at + 2] = (hi >>> 8) & 0xff;
  buf[at + 3] = hi & 0xff;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = (lo >>> 16) & 0xff;
  buf[at + 6] = (lo >>> 8) & 0xff;
  buf[at + 7] = lo & 0xff;
}

function getU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}
