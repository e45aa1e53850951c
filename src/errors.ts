/*
 * Errors that carry a POSIX code.
 *
 * Every failure the filesystem can explain is an FsError with the POSIX name of what went wrong
 * (ENOENT, EEXIST, EIO, ...) and a message that names the object: the block, the inode, the
 * device. The FUSE edge maps the code to -errno in one place; the CLI prints the message and
 * exits non-zero. Anything that is not an FsError is a bug and is reported as EIO by the edges.
 */

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ESTALE: 116,
} as const;

export type ErrnoName = keyof typeof ERRNO;

export class FsError extends Error {
  readonly code: ErrnoName;
  constructor(code: ErrnoName, message: string) {
    // expected failures (a lookup's ENOENT) are frequent: no stack trace to capture
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${message}`);
    Error.stackTraceLimit = limit;
    this.name = 'FsError';
    this.code = code;
  }

  get errno(): number {
    return ERRNO[this.code];
  }
}

export const fsError =
  (code: ErrnoName) =>
  (message: string): FsError =>
    new FsError(code, message);

export const EIO = fsError('EIO');
export const ENOSPC = fsError('ENOSPC');
export const EINVAL = fsError('EINVAL');
export const ENOENT = fsError('ENOENT');
export const EEXIST = fsError('EEXIST');

/** A wrong or refused input from a user: the CLI prints the message and exits 2 (usage) or 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The code of an error from node's fs layer (`EIO`, `ENOENT`, ...), if it has one. */
export function systemCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
