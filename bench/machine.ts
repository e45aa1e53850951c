/*
 * What the bench ran on: CPU, cores, node, kernel, and the filesystem under the scratch dir.
 *
 * The filesystem type comes from /proc/self/mounts (the longest mount point that contains the
 * directory), because statfs only gives a magic number that ext2, ext3 and ext4 share.
 */

import { readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  kernel: string;
  fsType: string;
  fsSource: string;
  mountPoint: string;
}

export function describeMachine(dir: string): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readText('/proc/cpuinfo'))?.[1]?.trim();
  const mount = mountOf(realpathSync(dir));
  return {
    cpu: model ?? cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    kernel: `linux ${release()}`,
    fsType: mount?.type ?? 'unknown',
    fsSource: mount?.source ?? '?',
    mountPoint: mount?.point ?? '?',
  };
}

function mountOf(path: string): { source: string; point: string; type: string } | null {
  let best: { source: string; point: string; type: string } | null = null;
  for (const line of readText('/proc/self/mounts').split('\n')) {
    const [source, rawPoint, type] = line.split(' ');
    if (!source || !rawPoint || !type) continue;
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, oct: string) =>
      String.fromCharCode(Number.parseInt(oct, 8)),
    );
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && point.length >= (best?.point.length ?? 0)) best = { source, point, type };
  }
  return best;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
