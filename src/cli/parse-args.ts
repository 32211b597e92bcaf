/**
 * The command line's arguments, parsed with `node:util` `parseArgs` (strict: an unknown option
 * is a usage error) and turned into typed settings. Values are checked for shape here (a
 * number is a number); ranges are checked once, by `createRegenerator()`, whose `ConfigError`
 * also exits with code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ManifestFormat } from '../batch/manifest-types.js';
import type { RegeneratorOptions } from '../options.js';
import { FileStore } from '../storage/file-store.js';
import type { OutputFormat, VariantSpec } from '../types.js';
import { MAX_PROCESSES } from './machine-plan.js';
import type { ProgressMode } from './progress.js';
import { UsageError } from './usage-error.js';

export type Command = 'rebuild' | 'scan' | 'estimate';
export const COMMANDS: readonly Command[] = ['rebuild', 'scan', 'estimate'];

type Options = NonNullable<ParseArgsConfig['options']>;

const OUTPUT: Options = {
  out: { type: 'string' },
  variant: { type: 'string', multiple: true },
  format: { type: 'string' },
  quality: { type: 'string' },
  'manifest-format': { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  'progress-interval': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const FETCH: Options = {
  concurrency: { type: 'string' },
  'per-host': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'render-concurrency': { type: 'string' },
  'pixel-budget': { type: 'string' },
  cores: { type: 'string' },
};

const SPECS: Record<Command, Options> = {
  rebuild: {
    ...OUTPUT,
    ...FETCH,
    'only-missing': { type: 'boolean' },
    'no-only-missing': { type: 'boolean' },
    'retry-degraded': { type: 'boolean' },
    'retry-failed': { type: 'boolean' },
    resume: { type: 'boolean' },
    report: { type: 'string' },
    fallbacks: { type: 'string' },
    grace: { type: 'string' },
    verify: { type: 'boolean' },
    hashes: { type: 'string' },
    processes: { type: 'string' },
  },
  scan: { ...OUTPUT, list: { type: 'string' }, concurrency: { type: 'string' }, verify: { type: 'boolean' }, decode: { type: 'boolean' } },
  estimate: {
    ...OUTPUT,
    ...FETCH,
    sample: { type: 'string' },
    'only-missing': { type: 'boolean' },
    'no-only-missing': { type: 'boolean' },
    'retry-degraded': { type: 'boolean' },
  },
};

export const DEFAULT_VARIANTS: Readonly<Record<string, VariantSpec>> = Object.freeze({
  small: { width: 150, height: 150, fit: 'cover' },
  large: { width: 800 },
});

/** What every command shares. */
export interface CommonArgs {
  manifest: string;
  out: string;
  manifestFormat: ManifestFormat | undefined;
  /** The regenerator's options (store, variants, format, limits). */
  regenerator: RegeneratorOptions;
  progress: ProgressMode;
  /** `--json`: the summary as one JSON object on stdout. */
  json: boolean;
  quiet: boolean;
  progressIntervalMs: number;
  /** `--cores`: the core count to size for (render concurrency, processes). */
  cores: number | undefined;
}

export interface RebuildArgs extends CommonArgs {
  onlyMissing: boolean;
  retryDegraded: boolean;
  retryFailed: boolean;
  resume: boolean;
  report: string | undefined;
  fallbacks: string | undefined;
  graceMs: number;
  /** `--verify`: read and check stored entries, so damaged ones are rebuilt too. */
  verify: boolean;
  /** `--hashes FILE`: each regenerated record's ThumbHash, as JSON Lines. */
  hashes: string | undefined;
  /** `--processes`: worker processes; undefined for the default from the cores. */
  processes: number | undefined;
}

export interface ScanArgs extends CommonArgs {
  list: string | undefined;
  concurrency: number | undefined;
  /** `--verify` (or `--decode`): read and check every stored variant. */
  verify: boolean;
  /** `--decode`: decode every stored variant in full too. */
  decode: boolean;
}

export interface EstimateArgs extends CommonArgs {
  sample: number | undefined;
  onlyMissing: boolean;
  retryDegraded: boolean;
}

export type Invocation =
  | { kind: 'help'; command: Command | undefined }
  | { kind: 'version' }
  | { kind: 'rebuild'; args: RebuildArgs }
  | { kind: 'scan'; args: ScanArgs }
  | { kind: 'estimate'; args: EstimateArgs };

export function parseInvocation(argv: readonly string[], isTTY: boolean): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === undefined) throw new UsageError('Expected a command: rebuild, scan or estimate (see `rethumb --help`)');
    const named = rest[0];
    return { kind: 'help', command: COMMANDS.includes(named as Command) ? (named as Command) : undefined };
  }
  if (first === '-v' || first === '--version') return { kind: 'version' };
  if (!COMMANDS.includes(first as Command)) throw new UsageError(`Unknown command \`${first}\`; expected rebuild, scan or estimate`);
  const command = first as Command;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: SPECS[command], allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see \`rethumb ${command} --help\`)`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { kind: 'help', command };
  const common = commonArgs(command, parsed.positionals, values, isTTY);
  switch (command) {
    case 'rebuild': {
      const report = str(values.report);
      return {
        kind: 'rebuild',
        args: {
          ...common,
          onlyMissing: onlyMissing(values),
          retryDegraded: values['retry-degraded'] === true,
          retryFailed: values['retry-failed'] === true,
          resume: values.resume === true,
          report,
          fallbacks: str(values.fallbacks) ?? (report === undefined ? undefined : `${report.replace(/\.json$/i, '')}.fallbacks.jsonl`),
          graceMs: seconds('grace', values.grace, 10),
          verify: values.verify === true,
          hashes: str(values.hashes),
          processes: count('processes', values.processes, MAX_PROCESSES),
        },
      };
    }
    case 'scan':
      return {
        kind: 'scan',
        args: {
          ...common,
          list: str(values.list),
          concurrency: int('concurrency', values.concurrency),
          verify: values.verify === true || values.decode === true,
          decode: values.decode === true,
        },
      };
    case 'estimate':
      if (common.manifest === '-') throw new UsageError('`estimate` reads the manifest twice: pass a file, not stdin');
      return {
        kind: 'estimate',
        args: { ...common, sample: int('sample', values.sample), onlyMissing: onlyMissing(values), retryDegraded: values['retry-degraded'] === true },
      };
  }
}

function commonArgs(command: Command, positionals: string[], values: Record<string, string | boolean | string[] | undefined>, isTTY: boolean): CommonArgs {
  if (positionals.length === 0) throw new UsageError(`Expected a MANIFEST (a file, or - for stdin): rethumb ${command} MANIFEST --out DIR`);
  if (positionals.length > 1) throw new UsageError(`Expected one MANIFEST, got ${positionals.length}: ${positionals.join(' ')}`);
  const out = str(values.out);
  if (out === undefined || out === '') throw new UsageError(`Expected --out DIR, the thumbnail store's directory (see \`rethumb ${command} --help\`)`);
  const manifestFormat = str(values['manifest-format']);
  if (manifestFormat !== undefined && manifestFormat !== 'jsonl' && manifestFormat !== 'csv') {
    throw new UsageError(`Expected --manifest-format to be jsonl or csv, got \`${manifestFormat}\``);
  }
  const quiet = values.quiet === true;
  const json = values.json === true;
  if (quiet && json) throw new UsageError('Expected at most one of --quiet and --json');
  const format = str(values.format) as OutputFormat | undefined;
  const quality = int('quality', values.quality);
  const variants = values.variant === undefined ? DEFAULT_VARIANTS : parseVariants(values.variant as string[]);
  const perHost = int('per-host', values['per-host']);
  const regenerator: RegeneratorOptions = {
    store: new FileStore(out),
    variants,
    ...(format === undefined ? {} : { format }),
    ...(quality === undefined ? {} : { quality }),
    ...optional('concurrency', command === 'scan' ? undefined : int('concurrency', values.concurrency)),
    ...(perHost === undefined ? {} : { perHost: { concurrency: perHost } }),
    ...optional('renderConcurrency', int('render-concurrency', values['render-concurrency'])),
    ...optional('renderPixelBudget', int('pixel-budget', values['pixel-budget'])),
    allowHosts: (values['allow-host'] as string[] | undefined) ?? [],
  };
  return {
    manifest: positionals[0]!,
    out,
    manifestFormat: manifestFormat as ManifestFormat | undefined,
    regenerator,
    progress: quiet ? 'quiet' : json ? 'json' : isTTY ? 'bar' : 'plain',
    json,
    quiet,
    progressIntervalMs: seconds('progress-interval', values['progress-interval'], 10) ,
    cores: count('cores', values.cores, 65_536),
  };
}

/** `NAME=WxH[:fit]`, W or H may be empty. */
export function parseVariants(specs: readonly string[]): Record<string, VariantSpec> {
  const variants: Record<string, VariantSpec> = {};
  for (const spec of specs) {
    const match = /^([^=]+)=(\d*)x(\d*)(?::([a-z]+))?$/.exec(spec);
    if (!match || (match[2] === '' && match[3] === '')) {
      throw new UsageError(`Expected --variant as NAME=WxH[:fit] (e.g. small=150x150:cover, large=800x), got \`${spec}\``);
    }
    const [, name = '', w, h, fit] = match;
    if (name in variants) throw new UsageError(`Variant \`${name}\` is given twice`);
    variants[name] = {
      ...(w ? { width: Number(w) } : {}),
      ...(h ? { height: Number(h) } : {}),
      ...(fit ? { fit: fit as VariantSpec['fit'] } : {}),
    };
  }
  return variants;
}

function onlyMissing(values: Record<string, unknown>): boolean {
  if (values['only-missing'] === true && values['no-only-missing'] === true) throw new UsageError('Expected one of --only-missing and --no-only-missing, not both');
  return values['no-only-missing'] !== true;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function int(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`Expected --${option} to be a whole number, got \`${String(value)}\``);
  return n;
}

/** A whole number from 1 to `max`, or undefined when not given. */
function count(option: string, value: unknown, max: number): number | undefined {
  const n = int(option, value);
  if (n !== undefined && (n < 1 || n > max)) throw new UsageError(`Expected --${option} to be from 1 to ${max}, got \`${n}\``);
  return n;
}

function seconds(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`Expected --${option} to be a number of seconds ≥ 0, got \`${String(value)}\``);
  return n * 1000;
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
