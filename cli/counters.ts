/*
 * scoutfs counters DIR: the mount's counters, one "name value" line each (--json: one object).
 */

import { Command } from 'commander';
import { ask } from './mount-query.js';
import { run } from './run.js';

export function countersCommand(): Command {
  return new Command('counters')
    .description("show a mount's counters (the binding's attribute cache, write windows and request polls)")
    .argument('<dir>', 'a path in a mounted scoutfs filesystem')
    .option('--json', 'one JSON object')
    .action(
      run('counters', async (dir: string, f: { json?: boolean }) => {
        const r = (await ask(dir, { op: 'counters' })) as Record<string, number>;
        const lines = Object.entries(r).map(([k, v]) => `${k.padEnd(20)}${v}`);
        process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : `${lines.join('\n')}\n`);
      }),
    );
}
