/** `rethumb estimate`: a real sample, then a prediction of the whole job with its uncertainty. */
import { resolve } from 'node:path';
import { estimateJob, type EstimateReport } from '../batch/estimate.js';
import type { Range } from '../batch/predict-job.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatBytes, formatCount, formatDuration, formatRate, formatRecords } from './format.js';
import { resolveOptions } from '../options.js';
import { checkManifest, checkOutDir } from './check-paths.js';
import { advise, adviceLines, reasonLines, type Advice } from './advice.js';
import { commandLine, pathArg } from './command-line.js';
import { optionWords, withOptions } from './job-settings.js';
import { planMachine, sizedRegenerator } from './machine-plan.js';
import { isRepeatable, type EstimateArgs } from './parse-args.js';
import { problemReporter, warnIfEmpty } from './report-problem.js';

export async function estimateCommand(args: EstimateArgs, io: CliIO, signals: CliSignals): Promise<number> {
  // Option values first (no I/O), then the paths.
  resolveOptions(args.regenerator);
  await checkManifest(args.manifest, io);
  await checkOutDir(args.out, true);
  let last = 0;
  // On a terminal the sampling line is redrawn in place: a line of its own clears it first.
  const tty = args.progress === 'bar';
  const print = (line: string): void => void io.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
  signals.setNotice?.(print);
  const reportProblem = problemReporter(args, io, print);
  let malformed = 0;
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
      onProblem: (problem) => {
        malformed += 1;
        reportProblem(problem);
      },
      onSampleProgress: (done, of) => {
        if (args.quiet || args.json) return;
        const now = performance.now();
        if (now - last < 1000 && done < of) return;
        last = now;
        io.stderr.write(`${tty ? '\r' : ''}sampling: ${done}/${of}${tty && done < of ? '' : '\n'}`);
      },
    });
  } catch (error) {
    if (signals.stop.aborted) {
      print(`rethumb estimate: interrupted (the sample's thumbnails so far are kept in ${args.out})`);
      return interruptedExitCode(signals.received);
    }
    throw error;
  } finally {
    signals.setNotice?.(undefined);
  }
  warnIfEmpty(args, io, report.total, malformed);
  const fallbacks = report.sampleCounts.derived + report.sampleCounts.placeholder;
  const advice = advise({
    fallbacks,
    reasons: report.fallbackReasons,
    rerun: (extra) => commandLine(['estimate', pathArg(args.manifest), ...optionWords(withOptions(args.given, extra, isRepeatable))]),
    // The sample's records are not listed anywhere: advice must not send the user to a report.
    listed: false,
  });
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ command: 'estimate', manifest: args.manifest, out: resolve(args.out), ...report, advice })}\n`);
  } else if (!args.quiet) {
    io.stdout.write(humanEstimate(report, args, fallbacks, advice));
  }
  return 0;
}

function humanEstimate(r: EstimateReport, args: EstimateArgs, fallbacks: number, advice: readonly Advice[]): string {
  const c = r.sampleCounts;
  const step = r.sampled > 0 ? Math.max(1, Math.round(r.total / r.sampled)) : 1;
  const range = (x: Range, f: (n: number) => string): string => `${f(x.estimate)} (95% interval ${f(x.low)} – ${f(x.high)})`;
  return [
    `rethumb estimate: ${formatRecords(r.total)} in ${args.manifest}; ran ${formatCount(r.sampled)} of them (every ${formatCount(step)}${ordinal(step)}) in ${formatDuration(r.sampleDurationMs)}`,
    `  sample outcomes: regenerated ${c.regenerated}, stored ${c.stored}, mirror ${c.mirror}, derived ${c.derived}, placeholder ${c.placeholder}`,
    ...(fallbacks > 0 ? [`  sample fallbacks: ${formatCount(fallbacks)}`, ...reasonLines(r.fallbackReasons)] : []),
    `  duration at concurrency ${r.concurrency}: ${range(r.durationMs, formatDuration)}`,
    `  throughput: ${range(r.recordsPerSecond, formatRate)}`,
    `  to download: ${range(r.bytesDownloaded, formatBytes)}`,
    `  to write: ${range(r.bytesWritten, formatBytes)}`,
    '  The interval covers the sample\'s own variation; it assumes origins keep the',
    '  pace they showed and the manifest does not grow (estimate again if it does).',
    ...(fallbacks * 2 > r.sampled ? ['  Most of the sample fell back: the prediction is for a job that mostly fails.'] : []),
    ...adviceLines(advice),
    '',
  ].join('\n');
}

function ordinal(n: number): string {
  if (n === 1) return 'st';
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return 'th';
  return ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
}
