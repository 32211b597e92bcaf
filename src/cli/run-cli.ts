/**
 * The command line as a function: parse, run the command, map failures to the documented exit
 * codes. `main.ts` calls it with the real process; tests can call it with their own streams.
 */
import { ConfigError, ErrorCodes, RethumbError } from '../errors.js';
import { WorkersFailedError } from '../batch/process-pool.js';
import { configMessage } from './config-message.js';
import { USER_ERRNO, why } from './check-paths.js';
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
    const failure = describeFailure(error);
    io.stderr.write(`rethumb: ${failure.message}\n`);
    return failure.code;
  }
}

/**
 * What went wrong, in one line, and whose it is: 2 for the user's input (arguments, options,
 * paths, permissions, a manifest or journal that cannot be used), 1 for a failure of rethumb or
 * of the machine (a full disk). Only a bug — an error rethumb does not know — shows its stack.
 */
export function describeFailure(error: unknown): { code: 1 | 2; message: string } {
  if (error instanceof UsageError) return { code: 2, message: error.message };
  if (error instanceof ConfigError) return { code: 2, message: configMessage(error) };
  if (error instanceof RethumbError) {
    const input = error.code === ErrorCodes.CONFIG || error.code === ErrorCodes.JOURNAL || error.code === ErrorCodes.MANIFEST;
    return { code: input ? 2 : 1, message: error.message };
  }
  // The machine's failure (workers killed again and again): what happened and how to continue.
  if (error instanceof WorkersFailedError) return { code: 1, message: error.message };
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno?.code === 'string' && typeof errno.syscall === 'string') {
    const where = errno.path === undefined ? '' : ` ${errno.path}`;
    return { code: USER_ERRNO.has(errno.code) ? 2 : 1, message: `${errno.syscall}${where}: ${why(error)}` };
  }
  return {
    code: 1,
    message: `${(error as Error)?.stack ?? String(error)}\nThis is a bug in rethumb: please report it with the lines above.`,
  };
}
