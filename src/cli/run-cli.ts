/**
 * The command line as a function: parse, run the command, map failures to the documented exit
 * codes. `main.ts` calls it with the real process; tests can call it with their own streams.
 */
import { RethumbError } from '../errors.js';
import { VERSION } from '../options.js';
import type { CliIO, CliSignals } from './cli-io.js';
import { estimateCommand } from './estimate-command.js';
import { ESTIMATE_HELP, MAIN_HELP, REBUILD_HELP, SCAN_HELP } from './help.js';
import { parseInvocation, type Command } from './parse-args.js';
import { rebuildCommand } from './rebuild-command.js';
import { scanCommand } from './scan-command.js';
import { UsageError } from './usage-error.js';

const HELP: Record<Command, string> = { rebuild: REBUILD_HELP, scan: SCAN_HELP, estimate: ESTIMATE_HELP };

/** Run the command line; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIO, signals: CliSignals): Promise<number> {
  try {
    const invocation = parseInvocation(argv, io.isTTY);
    switch (invocation.kind) {
      case 'help':
        io.stdout.write(`${invocation.command ? HELP[invocation.command] : MAIN_HELP}\n`);
        return 0;
      case 'version':
        io.stdout.write(`${VERSION}\n`);
        return 0;
      case 'rebuild':
        return await rebuildCommand(invocation.args, io, signals);
      case 'scan':
        return await scanCommand(invocation.args, io, signals);
      case 'estimate':
        return await estimateCommand(invocation.args, io, signals);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof RethumbError && (error.code === 'RETHUMB_CONFIG' || error.code === 'RETHUMB_JOURNAL'))) {
      io.stderr.write(`rethumb: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`rethumb: ${error instanceof RethumbError ? error.message : ((error as Error)?.stack ?? String(error))}\n`);
    return 1;
  }
}
