/*
 * The scoutfs command: one subcommand per file, registered here explicitly.
 *
 * Usage errors (unknown options, missing or malformed arguments) exit 2 with commander's message;
 * failures of the work itself exit 1 with a one-line message (see run.ts).
 */

import { Command, CommanderError } from 'commander';
import { countersCommand } from './counters.js';
import { dfCommand } from './df.js';
import { eventsCommand } from './events.js';
import { inoPathCommand } from './ino-path.js';
import { mkfsCommand } from './mkfs.js';
import { mountCommand } from './mount.js';
import { printCommand } from './print.js';
import { replayCommand } from './replay.js';
import { statCommand } from './stat.js';
import { statfsCommand } from './statfs.js';
import { syncCommand } from './sync.js';
import { umountCommand } from './umount.js';
import { walkInodesCommand } from './walk-inodes.js';

const program = new Command('scoutfs')
  .description('an event-sourced clustered filesystem for large archives')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const command of [
  mkfsCommand(),
  mountCommand(),
  umountCommand(),
  printCommand(),
  eventsCommand(),
  walkInodesCommand(),
  replayCommand(),
  statCommand(),
  statfsCommand(),
  dfCommand(),
  inoPathCommand(),
  syncCommand(),
  countersCommand(),
]) {
  program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
  process.exitCode = benign ? 0 : 2;
}
