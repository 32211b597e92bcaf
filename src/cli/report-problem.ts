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
