/** `rethumb estimate`: a real sample, then a prediction of the whole job with its uncertainty. */
import { resolve } from 'node:path';
import { estimateJob, type EstimateReport } from '../batch/estimate.js';
import type { Range } from '../batch/predict-job.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import { planMachine, sizedRegenerator } from './machine-plan.js';
import type { EstimateArgs } from './parse-args.js';
import { problemReporter } from './report-problem.js';

export async function estimateCommand(args: EstimateArgs, io: CliIO, signals: CliSignals): Promise<number> {
  let last = 0;
  let report: EstimateReport;
  // The sample runs in this process.
  const machine = planMachine({ cores: args.cores, processes: 1, renderConcurrency: args.regenerator.renderConcurrency });
  try {
    report = await estimateJob({
      manifest: args.manifest,
      ...(args.manifestFormat ? { manifestFormat: args.manifestFormat } : {}),
      regenerator: sizedRegenerator(args.regenerator, machine),
      ...(args.sample === undefined ? {} : { sample: args.sample }),
      onlyMissing: args.onlyMissing,
      retryDegraded: args.retryDegraded,
      signal: signals.stop,
      onProblem: problemReporter(args, io),
      onSampleProgress: (done, of) => {
        if (args.quiet || args.json) return;
        const now = performance.now();
        if (now - last < 1000 && done < of) return;
        last = now;
        io.stderr.write(`${args.progress === 'bar' ? '\r' : ''}sampling: ${done}/${of}${args.progress === 'bar' && done < of ? '' : '\n'}`);
      },
    });
  } catch (error) {
    if (signals.stop.aborted) {
      io.stderr.write('rethumb estimate: interrupted\n');
      return interruptedExitCode(signals.received);
    }
    throw error;
  }
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ command: 'estimate', manifest: args.manifest, out: resolve(args.out), ...report })}\n`);
  } else if (!args.quiet) {
    io.stdout.write(humanEstimate(report, args));
  }
  return 0;
}

function humanEstimate(r: EstimateReport, args: EstimateArgs): string {
  const c = r.sampleCounts;
  const step = r.sampled > 0 ? Math.max(1, Math.round(r.total / r.sampled)) : 1;
  const range = (x: Range, f: (n: number) => string): string => `${f(x.estimate)} (95% interval ${f(x.low)} – ${f(x.high)})`;
  return [
    `rethumb estimate: ${formatCount(r.total)} records in ${args.manifest}; ran ${formatCount(r.sampled)} of them (every ${formatCount(step)}${ordinal(step)}) in ${formatDuration(r.sampleDurationMs)}`,
    `  sample outcomes: regenerated ${c.regenerated}, stored ${c.stored}, mirror ${c.mirror}, derived ${c.derived}, placeholder ${c.placeholder}`,
    `  duration at concurrency ${r.concurrency}: ${range(r.durationMs, formatDuration)}`,
    `  throughput: ${range(r.recordsPerSecond, formatRate)}`,
    `  to download: ${range(r.bytesDownloaded, formatBytes)}`,
    `  to write: ${range(r.bytesWritten, formatBytes)}`,
    '  The interval covers the sample\'s own variation; it assumes origins keep the pace they',
    '  showed and the manifest does not grow (estimate again if it does).',
    '',
  ].join('\n');
}

function ordinal(n: number): string {
  if (n === 1) return 'st';
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return 'th';
  return ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
}
