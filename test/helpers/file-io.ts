/*
 * Whole reads and writes through a FileHandle, and fsync of a directory: what tests on a mount
 * need that node's fs API leaves to loops. A short write or read is legal at any moment (a mount
 * can return part of a request, for instance as it dies); these loops go on until done, the end
 * of the file, or an error.
 */

import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

/** Write all of `data` at `offset`, or at the end of the file when `offset` is null (O_APPEND). */
export async function writeAll(h: FileHandle, data: Buffer, offset: number | null): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const at = offset === null ? null : offset + done;
    const { bytesWritten } = await h.write(data, done, data.length - done, at);
    done += bytesWritten;
  }
}

/** Fill `buf` from `pos` on, or up to the end of the file; the bytes read. */
export async function readFull(h: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await h.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** fsync a directory, which makes the names in it durable. */
export async function syncDir(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
