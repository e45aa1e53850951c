/*
 * The -o options of `scoutfs mount` and `mount -t scoutfs`.
 *
 *   server_address=ADDR[:PORT]   the address this node's server listens on (a cluster of one
 *                                records it; the cluster issue makes it serve)
 *   slot=N                       the log slot this node writes (default 0)
 *   attr_timeout=S, entry_timeout=S   kernel cache timeouts in seconds
 *   read_ahead_kb=N              the kernel's read-ahead window on the mount (default 1024)
 *   allow_other / noallow_other, default_permissions / nodefault_permissions (both on by default)
 *   attr_cache / noattr_cache    getattr answered by the binding's attribute cache (default on)
 *   write_windows / nowrite_windows   sequential writes written by the binding's threads
 *                                (write windows, default on)
 *   poll_us=N                    poll up to N microseconds for the next request after an answer
 *                                instead of sleeping (request polling, default 200; 0: off)
 *   rw, defaults, dev, suid, exec, atime, relatime, noatime   accepted from mount(8), no effect
 */

import { UsageError } from '../src/errors.js';

export interface MountOptions {
  serverAddress?: string;
  slot: number;
  attrTimeout?: number;
  entryTimeout?: number;
  readAheadKb?: number;
  allowOther: boolean;
  defaultPermissions: boolean;
  attrCache: boolean;
  writeWindows: boolean;
  pollUs?: number;
}

const IGNORED = new Set([
  'rw',
  'defaults',
  'dev',
  'suid',
  'exec',
  'atime',
  'relatime',
  'noatime',
  'nodev',
  'nosuid',
  'auto',
  'nofail',
  '_netdev',
]);

export function parseMountOptions(list: string[]): MountOptions {
  const o: MountOptions = {
    slot: 0,
    allowOther: true,
    defaultPermissions: true,
    attrCache: true,
    writeWindows: true,
  };
  for (const opt of list.flatMap((s) => s.split(',')).filter(Boolean)) {
    const [key, value] = opt.includes('=')
      ? [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)]
      : [opt, undefined];
    const seconds = () => {
      const n = Number(value);
      if (value === undefined || !/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
        throw new UsageError(`option ${key} needs a number of seconds, not "${value ?? ''}"`);
      }
      return n;
    };
    switch (key) {
      case 'server_address':
        if (!value || !/^[A-Za-z0-9.:[\]-]+$/.test(value))
          throw new UsageError(`server_address "${value ?? ''}" is not an address`);
        o.serverAddress = value;
        break;
      case 'slot':
        if (!value || !/^\d+$/.test(value))
          throw new UsageError(`slot "${value ?? ''}" is not a slot number`);
        o.slot = Number(value);
        break;
      case 'attr_timeout':
        o.attrTimeout = seconds();
        break;
      case 'entry_timeout':
        o.entryTimeout = seconds();
        break;
      case 'read_ahead_kb':
        if (!value || !/^\d{1,6}$/.test(value) || Number(value) < 4 || Number(value) > 65536)
          throw new UsageError(`read_ahead_kb "${value ?? ''}" is not a size from 4 to 65536 KiB`);
        o.readAheadKb = Number(value);
        break;
      case 'allow_other':
      case 'noallow_other':
        o.allowOther = key === 'allow_other';
        break;
      case 'default_permissions':
      case 'nodefault_permissions':
        o.defaultPermissions = key === 'default_permissions';
        break;
      case 'attr_cache':
      case 'noattr_cache':
        o.attrCache = key === 'attr_cache';
        break;
      case 'poll_us':
        if (!value || !/^\d{1,5}$/.test(value) || Number(value) > 10_000)
          throw new UsageError(`poll_us "${value ?? ''}" is not a number of microseconds from 0 to 10000`);
        o.pollUs = Number(value);
        break;
      case 'write_windows':
      case 'nowrite_windows':
        o.writeWindows = key === 'write_windows';
        break;
      default:
        if (IGNORED.has(key) && value === undefined) break;
        throw new UsageError(`unknown mount option "${opt}"`);
    }
  }
  return o;
}
