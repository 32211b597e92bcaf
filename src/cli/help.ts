/** `--help` of every command, and the exit codes they share. */
import { CORES_PER_PROCESS } from './machine-plan.js';

export const EXIT_CODES = `Exit codes:
  0    done (records that fell back are in the fallback report, not errors)
  1    failed to run (an I/O error, a bug: the message says which)
  2    usage error: bad arguments or option values, or --resume refused (another
       manifest, other output settings, no journal)
  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: the report was written;
       \`rethumb rebuild … --resume\` continues`;

const OUTPUT = `Output options (every command):
  --out DIR                 The FileStore root: DIR/<key>/<variant>.<ext> (required)
  --variant NAME=WxH[:fit]  A variant, repeatable; W or H may be empty (large=800x);
                            fit is cover|contain|fill|inside|outside
                            (default: small=150x150:cover and large=800x)
  --format FMT              webp | jpeg | png | avif (default webp)
  --quality Q               Encoder quality 1-100 (default 80; avif 50)
  --manifest-format FMT     jsonl | csv (default: from the extension, else the first byte)`;

const FETCH = `Fetch options:
  --concurrency N           Sources downloading at once (default 20)
  --per-host N              Downloads from one host at once (default 6)
  --allow-host HOST[:PORT]  Exempt a host from the address policy, repeatable
  --render-concurrency N    Images in sharp at once, per process (default: its
                            share of the cores + 1)
  --pixel-budget N          Source pixels in sharp at once (default 100000000)
  --cores N                 CPU cores to size for (default: this machine's);
                            libuv's pool gets render concurrency + 4 threads
                            unless UV_THREADPOOL_SIZE is set`;

const DISPLAY = `Display:
  --quiet                   No progress and no summary (errors only)
  --json                    Progress as JSON lines on stderr, the summary as one JSON
                            object on stdout
  --progress-interval S     Seconds between progress lines when not on a TTY (default 10)
  -h, --help                This help`;

export const MAIN_HELP = `Usage: rethumb <command> MANIFEST --out DIR [options]

Rebuild missing thumbnails from their original URLs.

Commands:
  rebuild    Fetch and render what is missing; resumable; writes a report
  scan       List what is missing, degraded or (--verify) damaged; no fetching
  estimate   Run a real sample, then predict the whole job's time and bytes

MANIFEST is JSON Lines ({"key":…,"url":…,"mirrors":[…]} a line) or CSV with a header
row (key,url,mirrors,width,height,color,thumbhash; only url is required);
"-" reads stdin.
Malformed lines are reported with their line number and skipped.

Run \`rethumb <command> --help\` for a command's options. \`rethumb --version\` prints the version.

${EXIT_CODES}`;

export const REBUILD_HELP = `Usage: rethumb rebuild MANIFEST --out DIR [options]

Rebuild the thumbnails of MANIFEST's records into DIR, politely (at most --concurrency
downloads, --per-host per host), each source decoded once for every variant. Records that
fall back (a derived stand-in or a placeholder) are listed, with reasons, in a JSON Lines
fallback report that is itself a manifest: rebuild it to retry exactly those records.

A journal (DIR/.rethumb/journal.jsonl) is written as the job runs, so that after Ctrl-C,
kill -9 or a crash, --resume continues without redoing finished records. Failures are
remembered across runs (DIR/.rethumb/failures.jsonl): a permanent failure (404, not an
image …) is re-checked 1h, 4h, 16h, 64h, then every 7 days after it last failed; a
transient one (timeout, 503 …) every run.

Job options:
  --only-missing            Skip records whose every variant is stored (default)
  --no-only-missing         Rebuild every record
  --retry-degraded          Treat degraded (derived) thumbnails as missing
  --retry-failed            Retry records whose remembered failure is still on backoff
  --verify                  Read and check every stored thumbnail (structure,
                            checksum): damaged ones are rebuilt as missing ones
  --resume                  Continue the job journaled in DIR/.rethumb (same MANIFEST file)
  --report FILE             Write the summary as JSON to FILE, and the fallback report
                            beside it (FILE without .json + .fallbacks.jsonl)
  --fallbacks FILE          Where to write the fallback report
                            (default: beside --report, else DIR/.rethumb/fallbacks.jsonl)
  --grace S                 On SIGINT/SIGTERM, seconds to let records in flight finish
                            before abandoning them (default 10; a second signal abandons at once)
  --hashes FILE             Write each regenerated record's ThumbHash
                            ({"key","thumbhash"} a line) to FILE; keep
                            it with the record for placeholders that
                            look like the image (--resume: every run's)
  --processes N             Worker processes rebuilding records (default: one
                            per ${CORES_PER_PROCESS} cores); one journal, report and per-host cap

${OUTPUT}

${FETCH}

${DISPLAY}

${EXIT_CODES}`;

export const SCAN_HELP = `Usage: rethumb scan MANIFEST --out DIR [options]

Check which of MANIFEST's records DIR is missing (some variant absent) or holds degraded
(derived stand-ins), without fetching anything. Prints counts; --list writes the records
as JSON Lines (a manifest: rebuild it to fill exactly those).

With --verify, every stored variant is also read and checked: its structure, and
the checksum rethumb seals into each thumbnail (files written before checksums
existed: structure and header). Damaged records go to --list, marked so that
\`rethumb rebuild LIST --out DIR\` refetches them although their files exist.

Scan options:
  --list FILE               Write missing, degraded, damaged and invalid records
                            as JSON Lines ("-" for stdout)
  --concurrency N           Records checked at once (default 32)
  --verify                  Read and check every stored variant for damage
  --decode                  Also decode every variant in full (implies --verify;
                            slower; it adds to the checksum only for files
                            written before checksums existed)

${OUTPUT}

${DISPLAY}

${EXIT_CODES}`;

export const ESTIMATE_HELP = `Usage: rethumb estimate MANIFEST --out DIR [--sample N] [options]

Run a real sample of MANIFEST (every k-th record, spread over the whole file) with the
settings the job will use, then predict the whole job: its duration at --concurrency,
bytes to download and bytes to write, each with a 95% interval. The sample's thumbnails
are real work and are kept in DIR. MANIFEST must be a file (it is read twice).

Estimate options:
  --sample N                Records to run for real (default 200)
  --only-missing            Skip stored records, as the job will (default)
  --no-only-missing         Predict a job that rebuilds every record
  --retry-degraded          Predict a job that replaces degraded thumbnails

${OUTPUT}

${FETCH}

${DISPLAY}

${EXIT_CODES}`;
