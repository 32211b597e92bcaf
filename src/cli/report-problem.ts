/** How a malformed manifest line is reported: `MANIFEST:LINE: why, skipped` on stderr (a JSON line with --json; nothing with --quiet). */
import type { ManifestProblem } from '../batch/manifest-types.js';
import type { CliIO } from './cli-io.js';
import type { CommonArgs } from './parse-args.js';

export function problemReporter(
  args: CommonArgs,
  io: CliIO,
  print: (line: string) => void = (line) => void io.stderr.write(`${line}\n`),
): (problem: ManifestProblem) => void {
  const name = args.manifest === '-' ? 'stdin' : args.manifest;
  return (problem) => {
    if (args.quiet) return;
    print(args.json ? JSON.stringify({ malformed: { manifest: name, ...problem } }) : `${name}:${problem.line}: ${problem.message}, skipped`);
  };
}

/**
 * A manifest without a single record is almost always a mistake (the wrong file, a failed
 * export): said on stderr even with --quiet, a JSON line with --json. The exit code stays 0.
 */
export function warnIfEmpty(args: CommonArgs, io: CliIO, records: number, malformedLines: number): void {
  if (records > 0) return;
  const name = args.manifest === '-' ? 'stdin' : args.manifest;
  const message =
    malformedLines > 0
      ? `the manifest ${name} has no usable record: ${malformedLines === 1 ? 'its one line is' : `all ${malformedLines} of its lines are`} malformed (see above)`
      : `the manifest ${name} has no records: nothing to do (is it the right file?)`;
  io.stderr.write(args.json ? `${JSON.stringify({ warning: message })}\n` : `rethumb ${args.command}: warning: ${message}\n`);
}
