#!/usr/bin/env node
/**
 * The `rethumb` command line. `rethumb rebuild MANIFEST --out DIR` rebuilds the thumbnails of a
 * JSON Lines manifest (`{"key":…,"url":…}` per line) into a FileStore.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { RethumbError } from '../errors.js';
import { VERSION } from '../options.js';
import { createRegenerator } from '../regenerator/regenerator.js';
import { FileStore } from '../storage/file-store.js';
import type { ThumbRecord, VariantSpec } from '../types.js';

const HELP = `Usage: rethumb rebuild MANIFEST --out DIR [options]

Rebuild missing thumbnails of the records in MANIFEST (JSON Lines, one {"key","url"} per line;
"-" reads stdin) into DIR/<key>/<variant>.<ext>.

Options:
  --out DIR                 Store root (required)
  --variant NAME=WxH[:fit]  A variant; repeatable (default small=150x150:cover, large=800x)
  --format FMT              webp | jpeg | png | avif (default webp)
  --concurrency N           Sources downloading at once (default 20)
  --allow-host HOST[:PORT]  Exempt a host from the address policy; repeatable
  -h, --help                Show this help
  -v, --version             Show the version

Exit codes: 0 done (fallbacks included), 1 failed to run, 2 usage error.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      variant: { type: 'string', multiple: true },
      format: { type: 'string' },
      concurrency: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) return print(VERSION), 0;
  const [command, manifest] = positionals;
  if (values.help || command === undefined) return print(HELP), command === undefined && !values.help ? 2 : 0;
  if (command !== 'rebuild' || manifest === undefined || values.out === undefined) return print(HELP, true), 2;

  const regen = createRegenerator({
    store: new FileStore(values.out),
    variants: parseVariants(values.variant ?? ['small=150x150:cover', 'large=800x']),
    ...(values.format === undefined ? {} : { format: values.format as never }),
    ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) }),
    allowHosts: values['allow-host'] ?? [],
  });
  try {
    const report = await regen.rebuild(readJsonLines(manifest), {
      onRecord: (r) => r.outcome !== 'stored' && print(`${r.key}\t${r.outcome}${r.reason ? `\t${r.reason}` : ''}`),
    });
    print(JSON.stringify({ total: report.total, counts: report.counts, durationMs: Math.round(report.durationMs) }));
    return 0;
  } finally {
    await regen.close();
  }
}

function parseVariants(specs: readonly string[]): Record<string, VariantSpec> {
  const variants: Record<string, VariantSpec> = {};
  for (const spec of specs) {
    const match = /^([^=]+)=(\d*)x(\d*)(?::(\w+))?$/.exec(spec);
    if (!match) throw new UsageError(`Expected --variant as NAME=WxH[:fit] (e.g. small=150x150:cover, large=800x), got \`${spec}\``);
    const [, name = '', w, h, fit] = match;
    variants[name] = { ...(w ? { width: Number(w) } : {}), ...(h ? { height: Number(h) } : {}), ...(fit ? { fit: fit as VariantSpec['fit'] } : {}) };
  }
  return variants;
}

async function* readJsonLines(path: string): AsyncGenerator<ThumbRecord> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    try {
      yield JSON.parse(text) as ThumbRecord;
    } catch {
      process.stderr.write(`${path}:${line}: not valid JSON, skipped\n`);
    }
  }
}

class UsageError extends Error {}

function print(text: string, toStderr = false): void {
  (toStderr ? process.stderr : process.stdout).write(`${text}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    print(`rethumb: ${error instanceof RethumbError || usage ? (error as Error).message : String((error as Error)?.stack ?? error)}`, true);
    process.exitCode = usage || (error instanceof RethumbError && error.code === 'RETHUMB_CONFIG') ? 2 : 1;
  },
);
