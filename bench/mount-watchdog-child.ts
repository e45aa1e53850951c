/*
 * The mount benchmark's watchdog process (mount-watchdog.ts): waits for the bench's IPC channel
 * to close, then unmounts, kills and removes what is left.
 */

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alive, isMounted, unmountNow, waitExit } from './fuse-unmount.js';
import type { WatchdogInput } from './mount-watchdog.js';

const BIN = fileURLToPath(new URL('../bin/scoutfs.js', import.meta.url));
const EXIT_MS = 10_000;

const input = JSON.parse(process.argv[2] ?? '') as WatchdogInput;
const pids = new Set<number>();
process.on('message', (m: { pid?: number }) => m.pid && pids.add(m.pid));
process.on('disconnect', () => void teardown().finally(() => process.exit(0)));
process.send!({ listening: true });

async function teardown(): Promise<void> {
  for (const m of input.mounts) {
    if (m.scoutfsRunDir && isMounted(m.dir)) {
      const env = { ...process.env, SCOUTFS_RUN_DIR: m.scoutfsRunDir };
      spawnSync(process.execPath, [BIN, 'umount', m.dir], { env, stdio: 'ignore', timeout: 60_000 });
    }
    unmountNow(m.dir);
  }
  for (const pid of pids) if (!(await waitExit(pid, EXIT_MS)) && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(input.scratch, { recursive: true, force: true });
}
