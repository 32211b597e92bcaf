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
import type { GivenOption } from './job-settings.js';
import { MAX_PROCESSES } from './machine-plan.js';
import type { ProgressMode } from './progress.js';
import { nearest } from './nearest.js';
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
  'allow-private-networks': { type: 'boolean' },
  'allow-svg': { type: 'boolean' },
  'max-bytes': { type: 'string' },
  'max-pixels': { type: 'string' },
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

/** Node's parseArgs error, in one line that names the option and, for a typo, the nearest one. */
function argumentProblem(command: Command, error: unknown): string {
  const message = (error as Error).message;
  const code = (error as NodeJS.ErrnoException).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    const name = option.replace(/^-+/, '').replace(/=.*$/, '');
    const elsewhere = COMMANDS.filter((other) => other !== command && name in SPECS[other]);
    if (elsewhere.length > 0) return `${option} is an option of \`rethumb ${elsewhere.join('` and `rethumb ')}\`, not of \`rethumb ${command}\``;
    const names = Object.keys(SPECS[command]);
    const started = name.length >= 3 ? names.filter((n) => n.startsWith(name)) : [];
    const guesses = started.length > 0 ? started : [nearest(name, names)].filter((n) => n !== undefined);
    return `Unknown option ${option} for \`rethumb ${command}\`${guesses.length > 0 ? `; did you mean ${guesses.map((g) => `--${g}`).join(' or ')}?` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    const name = option.replace(/^-+/, '');
    if (/argument missing/.test(message)) return `--${name} needs a value`;
    if (/does not take an argument/.test(message)) return `--${name} takes no value`;
    if (/ambiguous/.test(message)) return `--${name} is followed by what looks like an option; give it a value (--${name}=VALUE if the value starts with -)`;
  }
  return message.split('\n')[0]!;
}

/** The long options `rethumb <command>` accepts (its --help documents each). */
export function commandOptions(command: Command): string[] {
  return Object.keys(SPECS[command]);
}

/** Whether `--name` may be given several times (`--variant`, `--allow-host`). */
export function isRepeatable(name: string): boolean {
  return Object.values(SPECS).some((spec) => spec[name]?.multiple === true);
}

export const DEFAULT_VARIANTS: Readonly<Record<string, VariantSpec>> = Object.freeze({
  small: { width: 150, height: 150, fit: 'cover' },
  large: { width: 800 },
});

/** What every command shares. */
export interface CommonArgs {
  command: Command;
  manifest: string;
  /** Every option as given, in order (after `--resume` restored a job's settings: those too). */
  given: readonly GivenOption[];
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
  if (!COMMANDS.includes(first as Command)) {
    const guess = first.startsWith('-') ? undefined : nearest(first, COMMANDS);
    throw new UsageError(`Unknown command \`${first}\`; ${guess ? `did you mean \`${guess}\`? ` : ''}expected rebuild, scan or estimate (see \`rethumb --help\`)`);
  }
  const command = first as Command;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: SPECS[command], allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(`${argumentProblem(command, error)} (see \`rethumb ${command} --help\`)`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { kind: 'help', command };
  const given = parsed.tokens.flatMap((t) => (t.kind === 'option' ? [{ name: t.name, value: t.value }] : []));
  const common = { command, given, ...commonArgs(command, parsed.positionals, values, isTTY) };
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
          // Checks in flight at once: bounded like rebuild's --concurrency (each holds an open file).
          concurrency: count('concurrency', values.concurrency, 1000),
          verify: values.verify === true || values.decode === true,
          decode: values.decode === true,
        },
      };
    case 'estimate':
      if (common.manifest === '-') throw new UsageError('`estimate` reads the manifest twice: pass a file, not stdin');
      return {
        kind: 'estimate',
        args: { ...common, sample: atLeastOne('sample', values.sample), onlyMissing: onlyMissing(values), retryDegraded: values['retry-degraded'] === true },
      };
  }
}

function commonArgs(
  command: Command,
  positionals: string[],
  values: Record<string, string | boolean | string[] | undefined>,
  isTTY: boolean,
): Omit<CommonArgs, 'command' | 'given'> {
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
    ...(values['allow-private-networks'] === true ? { allowPrivateNetworks: true } : {}),
    ...(values['allow-svg'] === true ? { allowSvg: true } : {}),
    ...optional('maxBytes', int('max-bytes', values['max-bytes'])),
    ...optional('maxPixels', int('max-pixels', values['max-pixels'])),
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

/** A whole number ≥ 1 with no upper bound of its own (`--sample` larger than the manifest runs all of it), or undefined. */
function atLeastOne(option: string, value: unknown): number | undefined {
  const n = int(option, value);
  if (n !== undefined && n < 1) throw new UsageError(`Expected --${option} to be a whole number ≥ 1, got \`${n}\``);
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
