/*
 * scoutfs mount DEVICE DIR [-o options] [-f]
 *
 * In the foreground (-f) this process is the mount: it brings up the node, the FUSE mount and
 * the control socket, records itself in the registry, and serves until SIGTERM/SIGINT, an
 * `scoutfs umount`, or an unmount by someone else (umount, fusermount -u), then commits,
 * checkpoints and exits. Without -f it starts that process detached, waits until the mount is
 * ready (or failed, with its error) and returns.
 *
 * One mount per volume on this host: the serving process claims the volume's fsid before it
 * opens it (volume-claim.ts), so a second mount through another slot, a symlink or a loop device
 * over the same file is refused, not a second writer.
 */

import { spawn } from 'node:child_process';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ControlServer } from '../src/control/control-server.js';
import { entryId, liveEntry, pathsFor, register, runDir, unregister } from '../src/control/registry.js';
import { busy as busyVolume, claimHolder, claimVolume } from '../src/control/volume-claim.js';
import { Triggers } from '../src/device/triggers.js';
import { type ErrnoName, FsError, UsageError } from '../src/errors.js';
import { DEFAULT_READ_AHEAD_KB, FuseMount, mountsAt } from '../src/fuse/fuse-mount.js';
import { Node } from '../src/node/node.js';
import { SERVER_V8_FLAGS } from '../src/node/server-flags.js';
import { openVolume } from '../src/volume/volume.js';
import { parseMountOptions } from './mount-options.js';
import { run } from './run.js';

interface MountFlags {
  o: string[];
  foreground?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function mountCommand(): Command {
  return new Command('mount')
    .description('mount a scoutfs volume through FUSE (in the background unless -f)')
    .argument('<device>', 'the shared block device or file')
    .argument('<dir>', 'the mount point')
    .option('-o <options>', 'mount options, comma separated (see the README)', collect, [])
    .option('-f, --foreground', 'serve in this process until unmounted')
    .action(
      run('mount', async (device: string, dir: string, f: MountFlags) => {
        const o = parseMountOptions(f.o);
        await checkTarget(device, dir);
        const id = await entryId(device, o.slot);
        const busy = await liveEntry(id);
        if (busy) {
          throw new FsError(
            'EBUSY',
            `${device} slot ${o.slot} is already mounted at ${busy.mountpoint} by process ${busy.pid}`,
          );
        }
        // the same volume through another path or slot: refused here at once when its holder
        // answers; the serving process's claim is what decides (volume-claim.ts)
        const fsid = await volumeFsid(device);
        const holder = await claimHolder(fsid);
        if (holder) throw busyVolume(fsid, holder);
        if (f.foreground) await serve(device, await realpath(dir), o, id, fsid);
        else await background(device, dir, f.o, id);
      }),
    );
}

async function checkTarget(device: string, dir: string): Promise<void> {
  const d = await stat(device).catch(() => null);
  if (!d) throw new UsageError(`${device}: no such device or file`);
  const m = await stat(dir).catch(() => null);
  if (!m?.isDirectory()) throw new UsageError(`${dir}: mount point is not a directory`);
}

async function serve(
  device: string,
  mountpoint: string,
  o: ReturnType<typeof parseMountOptions>,
  id: string,
  fsid: Buffer,
) {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const paths = pathsFor(id);
  // claimed before the open, which replays the logs and may write (orphans, a commit)
  const claim = await claimVolume(fsid, { pid: process.pid, device, slot: o.slot, mountpoint }).catch(
    refused,
  );
  let node: Node;
  try {
    node = await Node.open(device, { slot: o.slot });
    if (!node.vol.sb.fsid.equals(fsid)) {
      await node.close();
      throw new FsError('EIO', `${device} changed while it was being mounted (another volume's superblock)`);
    }
  } catch (err) {
    await claim.release();
    refused(err as Error);
  }
  let fuse: FuseMount | null = null;
  let control: ControlServer | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (why: string, unmountFuse: boolean) => {
    stopping ??= (async () => {
      log(`unmounting ${mountpoint}: ${why}`);
      clearInterval(watch);
      fuse?.stopPolling();
      // neither step may hold the unmount forever: the process exits after it in any case
      if (unmountFuse && fuse) await within(fuse.unmount(), 10_000, 'fusermount -uz', log);
      if (control) await within(control.close(), 5_000, 'closing the control socket', log);
      await settleReads(fuse, log);
      let code = 0;
      await node.close().catch((err: Error) => {
        log(`close failed: ${err.message}`);
        code = 1;
      });
      await unregister(id);
      await claim.release();
      log(`unmounted ${mountpoint}`);
      process.exit(code);
    })();
    return stopping;
  };
  let watch: NodeJS.Timeout | undefined;
  try {
    if (node.orphansReclaimed) log(`reclaimed ${node.orphansReclaimed} orphan inodes`);
    const multi = node.vol.sb.logSlots > 1;
    fuse = await FuseMount.mount(
      node.fs,
      mountpoint,
      {
        device: await realpath(device),
        allowOther: o.allowOther,
        defaultPermissions: o.defaultPermissions,
        entryTimeout: o.entryTimeout ?? (multi ? 0 : 1),
        attrTimeout: o.attrTimeout ?? (multi ? 0 : 1),
        readAheadKb: o.readAheadKb ?? DEFAULT_READ_AHEAD_KB,
        attrCache: o.attrCache,
        writeWindows: o.writeWindows,
        pollUs: o.pollUs,
      },
      log,
    );
    const mounted = fuse;
    control = await ControlServer.listen(
      paths.socket,
      node,
      () => void stop('scoutfs umount', true),
      () => {
        const [hits, paths, inodes, negative] = mounted.attrStats();
        return {
          attr_cache_hits: hits,
          attr_cache_enoent: negative,
          attr_cache_paths: paths,
          attr_cache_inodes: inodes,
          write_window_writes: node.fs.windowWrites,
          ...pollCounters(mounted.pollStats()),
        };
      },
    );
    await register(id, {
      pid: process.pid,
      device,
      slot: o.slot,
      mountpoint,
      socket: paths.socket,
      log: paths.log,
    });
  } catch (err) {
    if (fuse) await fuse.unmount().catch(() => {});
    await settleReads(fuse, log);
    await node.close().catch(() => {});
    await claim.release();
    throw err;
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void stop(sig, true));
  watch = setInterval(() => {
    void stillMounted(mountpoint).then((yes) => {
      if (!yes) void stop('unmounted from outside', false);
    });
  }, 1000);
  log(
    `mounted ${device} (slot ${o.slot}${o.serverAddress ? `, server_address ${o.serverAddress}` : ''}) at ${mountpoint}`,
  );
  process.send?.({ ready: true });
  process.disconnect?.();
}

/**
 * Before the device closes: no more reads handed to the binding's threads, and those handed
 * finished (FuseMount.stopReads). Bounded, as every step of a stop: a read still stuck on the
 * device after that reads the binding's own duplicate of the descriptor, never another file.
 */
async function settleReads(fuse: FuseMount | null, log: (line: string) => void): Promise<void> {
  if (fuse && !(await fuse.stopReads(5_000))) log('device reads on FUSE threads still running after 5 s');
}

/** Wait for `p`, but no longer than `ms`; a failure or a timeout is logged, not thrown. */
async function within(
  p: Promise<unknown>,
  ms: number,
  what: string,
  log: (line: string) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const r = await Promise.race([
    p.then(
      () => 'done',
      (err: Error) => `failed: ${err.message}`,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (r !== 'done') log(`${what}: ${r === 'timeout' ? `no answer in ${ms} ms; going on` : r}`);
}

async function stillMounted(mountpoint: string): Promise<boolean> {
  return (await mountsAt(mountpoint)).some((m) => m.fstype === 'fuse.scoutfs');
}

async function background(device: string, dir: string, opts: string[], id: string): Promise<void> {
  const { log } = pathsFor(id);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(runDir(), { recursive: true });
  const out = await open(log, 'a');
  const script = fileURLToPath(new URL('./scoutfs.js', import.meta.url));
  const args = [script, 'mount', '-f', ...opts.flatMap((x) => ['-o', x]), device, dir];
  const child = spawn(process.execPath, [...SERVER_V8_FLAGS, ...args], {
    detached: true,
    stdio: ['ignore', out.fd, out.fd, 'ipc'],
  });
  await out.close();
  const outcome = await new Promise<{
    ready?: boolean;
    refused?: { code: ErrnoName; message: string };
    code?: number | null;
  }>((resolve) => {
    child.once('message', (m) => resolve(m as { ready: boolean }));
    child.once('exit', (code) => resolve({ code }));
  });
  if (outcome.refused) throw new FsError(outcome.refused.code, outcome.refused.message);
  if (!outcome.ready) {
    const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join('\n');
    throw new FsError('EIO', `mount failed (exit ${outcome.code}); from ${log}:\n${tail}`);
  }
  child.disconnect?.();
  child.unref();
}

/**
 * A refusal to start (the volume or the device is in use, the device is not ours): a background
 * parent reports it with its own code, not as a failed start.
 */
function refused(err: Error): never {
  if (err instanceof FsError) {
    const message = err.message.slice(err.code.length + 2); // without FsError's "CODE: "
    process.send?.({ refused: { code: err.code, message } });
  }
  throw err;
}

/**
 * The fsid in the device's superblock (which also checks that the device is a scoutfs volume).
 * A side read: no fault armed for the mount's own IO (SCOUTFS_TRIGGERS) fires on it.
 */
async function volumeFsid(device: string): Promise<Buffer> {
  const vol = await openVolume(device, { readOnly: true, triggers: new Triggers() });
  await vol.dev.close();
  return vol.sb.fsid;
}

/** The mount's request-polling counters (request-poll.ts) by name. */
function pollCounters([polls, hits, us]: [number, number, number]): Record<string, number> {
  return { poll_spins: polls, poll_hits: hits, poll_spent_us: us };
}
