/** How a malformed manifest line is reported: `MANIFEST:LINE: why, skipped` on stderr (a JSON line with --json; nothing with --quiet). */
import type { ManifestProblem } from '../batch/manifest-types.js';
import type { CliIO } from './cli-io.js';
import type { CommonArgs } from './parse-args.js';

export function problemReporter(args: CommonArgs, io: CliIO): (problem: ManifestProblem) => void {
  const name = args.manifest === '-' ? 'stdin' : args.manifest;
  return (problem) => {
    if (args.quiet) return;
    io.stderr.write(
      args.json ? `${JSON.stringify({ malformed: { manifest: name, ...problem } })}\n` : `${name}:${problem.line}: ${problem.message}, skipped\n`,
    );
  };
}
