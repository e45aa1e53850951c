/*
 * A device that is a regular file or a block device (a loop device, a SAN LUN, an NBD disk).
 *
 * Size comes from fstat for a file and from sysfs for a block device (fstat reports 0 there and
 * node has no BLKGETSIZE64). IO is positional on one descriptor through libuv's thread pool, so
 * a slow device never blocks the event loop that serves other requests; sync is fdatasync.
 * Short reads are errors, not zeros: a file that shrank under us is not our filesystem.
 *
 * A block device opened for writing is opened exclusively (O_EXCL, the kernel's claim on a
 * block device, held until the descriptor is closed, however the process ends): a second
 * writer, a mount of it in another network namespace or a kernel filesystem on it, is refused
 * with EBUSY. Readers (the offline tools) open it without the claim. Until the cluster exists,
 * one writer per device is the rule; several nodes will share it through the cluster's locks.
 */

import { constants, promises as fsp, read, write } from 'node:fs';
import { FsError, systemCode } from '../errors.js';
import { type BlockDevice, checkRange } from './device.js';

export interface FileDeviceOptions {
  readOnly?: boolean;
  /** Create a regular file of this many bytes (sparse) if the path does not exist. */
  createBytes?: number;
}

export async function openFileDevice(path: string, opts: FileDeviceOptions = {}): Promise<FileDevice> {
  let fh: fsp.FileHandle;
  try {
    const exclusive = !opts.readOnly && (await fsp.stat(path)).isBlockDevice();
    fh = await fsp.open(path, opts.readOnly ? 'r' : exclusive ? constants.O_RDWR | constants.O_EXCL : 'r+');
  } catch (err) {
    if (systemCode(err) === 'ENOENT' && opts.createBytes !== undefined) {
      fh = await fsp.open(path, 'wx+');
      await fh.truncate(opts.createBytes);
    } else {
      throw openError(path, err);
    }
  }
  try {
    const st = await fh.stat();
    let size: number;
    if (st.isBlockDevice()) size = await blockDeviceBytes(st.rdev);
    else if (st.isFile()) size = st.size;
    else throw new FsError('EINVAL', `${path} is neither a regular file nor a block device`);
    return new FileDevice(path, fh, size);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

export class FileDevice implements BlockDevice {
  constructor(
    readonly name: string,
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  get descriptor(): number {
    return this.fh.fd;
  }

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    checkRange(this, offset, length);
    const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => {
      read(this.fh.fd, buf, 0, length, offset, (err, n) => {
        if (err) reject(ioError(this.name, 'read', offset, err));
        else if (n !== length)
          reject(new FsError('EIO', `${this.name}: short read at ${offset} (${n}/${length})`));
        else resolve(buf);
      });
    });
  }

  async write(offset: number, data: Buffer): Promise<void> {
    checkRange(this, offset, data.length);
    return new Promise((resolve, reject) => {
      write(this.fh.fd, data, 0, data.length, offset, (err, n) => {
        if (err) reject(ioError(this.name, 'write', offset, err));
        else if (n !== data.length) reject(new FsError('EIO', `${this.name}: short write at ${offset}`));
        else resolve();
      });
    });
  }

  async sync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (err) {
      throw ioError(this.name, 'fdatasync', 0, err);
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

async function blockDeviceBytes(rdev: number): Promise<number> {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  const sectors = await fsp.readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8');
  return Number.parseInt(sectors.trim(), 10) * 512;
}

function openError(path: string, err: unknown): FsError {
  const code = systemCode(err);
  if (code === 'ENOENT') return new FsError('ENOENT', `device ${path} does not exist`);
  if (code === 'EACCES' || code === 'EPERM') return new FsError('EACCES', `no permission to open ${path}`);
  if (code === 'EISDIR') return new FsError('EISDIR', `${path} is a directory, not a device`);
  if (code === 'EBUSY')
    return new FsError(
      'EBUSY',
      `${path} is in use: another process holds it open for writing (a mount of it, perhaps in another network namespace, or a kernel filesystem)`,
    );
  return new FsError('EIO', `cannot open ${path}: ${(err as Error).message}`);
}

function ioError(name: string, op: string, offset: number, err: unknown): FsError {
  const code = systemCode(err);
  if (code === 'ENOSPC')
    return new FsError('ENOSPC', `${name}: ${op} at ${offset}: no space on the backing store`);
  return new FsError('EIO', `${name}: ${op} at ${offset} failed: ${(err as Error).message}`);
}
