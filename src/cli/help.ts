/**
 * `--help` of every command, each with its own exit codes. Every line fits 80 columns (a test
 * checks every command's help): options in a 28-column left column, descriptions wrapped.
 */
import { CORES_PER_PROCESS } from './machine-plan.js';

const EXIT_USAGE = `  0    done (records that fell back are in the summary, not errors)
  1    rethumb failed (a bug, or the disk failed): the message says which
  2    your input: bad arguments or option values, a manifest or --out that
       cannot be used (missing, not a directory, no permission)`;

export const EXIT_CODES = `Exit codes:
${EXIT_USAGE}
  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM`;

/** scan fetches nothing, so nothing falls back: what it finds is counted. */
const SCAN_EXIT_CODES = `Exit codes:
  0    done (missing, degraded and damaged records are counted, not errors)
${EXIT_USAGE.slice(EXIT_USAGE.indexOf('\n') + 1)}
  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM`;

const REBUILD_EXIT_CODES = `Exit codes:
${EXIT_USAGE}, or --resume
       refused (another manifest, other output settings, no journal)
  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: the summary was written
       and prints the command that continues the job (... --resume)`;

const OUTPUT = `Output options:
  --out DIR                 The FileStore root: DIR/<key>/<variant>.<ext>
                            (required)
  --variant NAME=WxH[:fit]  A variant, repeatable; W or H may be empty
                            (large=800x); fit is cover|contain|fill|inside|
                            outside (default: small=150x150:cover, large=800x)
  --format FMT              webp | jpeg | png | avif (default webp)
  --quality Q               Encoder quality 1-100 (default 80; avif 50)
  --manifest-format FMT     jsonl | csv (default: from the file extension,
                            else from the first byte)`;

const FETCH = `Fetch options:
  --concurrency N           Sources downloading at once (default 20)
  --per-host N              Downloads from one host at once (default 6)
  --allow-host HOST[:PORT]  Let the address policy reach HOST (repeatable)
  --allow-private-networks  Turn the address policy off (trusted manifests
                            on a trusted network only)
  --allow-svg               Accept SVG sources (default: refused)
  --max-bytes N             Largest source body, bytes (default 26214400)
  --max-pixels N            Largest source, pixels (default 100000000)
  --render-concurrency N    Images in sharp at once, per process (default: its
                            share of the cores + 1)
  --pixel-budget N          Source pixels in sharp at once (default 1e8)
  --cores N                 CPU cores to size for (default: this machine's);
                            libuv's pool gets render concurrency + 4 threads
                            unless UV_THREADPOOL_SIZE is set

The address policy refuses loopback, private, link-local, CGNAT, multicast
and cloud-metadata addresses (127.0.0.1, 10.x, 192.168.x, 169.254.169.254,
::1 ...), checked on the resolved address and on every redirect: a URL in a
manifest cannot reach your internal network. Such records fall back with
RETHUMB_FORBIDDEN_ADDRESS; --allow-host exempts a host you trust.`;

const DISPLAY = `Display:
  --quiet                   No progress and no summary (errors only)
  --json                    Progress as JSON lines on stderr, the summary as
                            one JSON object on stdout
  --progress-interval S     Seconds between progress lines when not on a
                            terminal (default 10)
  -h, --help                This help`;

const MANIFEST = `MANIFEST is JSON Lines, a record a line:
  {"key":"u/42","url":"https://a.io/42.jpg","mirrors":["https://b.io/42.jpg"]}
or CSV with a header row naming the columns (only url is required):
  key,url,mirrors,width,height,color,thumbhash
  u/42,https://a.io/42.jpg,https://b.io/42.jpg|https://c.io/42.jpg,,,,
Several mirrors go in one field, separated by | or spaces. Quote a field that
holds a comma or a quote ("a ""quoted"" word"). "-" reads stdin. A malformed
line is reported with its line number and skipped; the others are kept.`;

export const MAIN_HELP = `Usage: rethumb <command> MANIFEST --out DIR [options]

Rebuild missing thumbnails from their original URLs.

Commands:
  rebuild    Fetch and render what is missing; resumable; writes a report
  scan       List what is missing, degraded or (--verify) damaged; no fetching
  estimate   Run a real sample, then predict the whole job's time and bytes

${MANIFEST}

\`rethumb <command> --help\` lists a command's options.
\`rethumb --version\` prints the version.

${EXIT_CODES}`;

export const REBUILD_HELP = `Usage: rethumb rebuild MANIFEST --out DIR [options]

Rebuild the thumbnails of MANIFEST's records into DIR, politely (at most
--concurrency downloads, --per-host per host), each source decoded once for
every variant. The summary counts the records that fell back (a derived
stand-in or a placeholder) per reason and says what to do; they are listed
in a fallback report that is itself a manifest: rebuild it to retry them.

A journal (DIR/.rethumb/journal.jsonl) records the job's settings and every
finished record, so that after Ctrl-C, kill -9 or a crash
\`rethumb rebuild MANIFEST --out DIR --resume\` continues it with the same
settings, without redoing finished records. Failures of a source are
remembered across runs (DIR/.rethumb/failures.jsonl): a permanent one (404,
not an image ...) is on hold, re-checked 1h, 4h, 16h, 64h, then every 7 days
after it last failed (RETHUMB_RECENTLY_FAILED meanwhile); a transient one
(timeout, 503 ...) is re-checked every run. Refusals by your own settings
(the address policy, SVG) are never remembered.

Job options:
  --only-missing            Skip records whose every variant is stored
                            (default)
  --no-only-missing         Rebuild every record
  --retry-degraded          Treat degraded (derived) thumbnails as missing
  --retry-failed            Retry records on hold (see above) now
  --verify                  Read and check every stored thumbnail (structure,
                            checksum): damaged ones are rebuilt as missing ones
  --resume                  Continue the job journaled in DIR/.rethumb, with
                            its settings (same MANIFEST file)
  --report FILE             Write the summary as JSON to FILE, and the
                            fallback report beside it (FILE.fallbacks.jsonl)
  --fallbacks FILE          Where to write the fallback report (default:
                            beside --report, else DIR/.rethumb/fallbacks.jsonl)
  --grace S                 On SIGINT/SIGTERM, seconds to let records in
                            flight finish before abandoning them (default 10;
                            a second signal abandons them at once)
  --hashes FILE             Write each regenerated record's ThumbHash
                            ({"key","thumbhash"} a line) to FILE; keep it
                            with the record for placeholders that look like
                            the image (--resume: every run's)
  --processes N             Worker processes rebuilding records (default: one
                            per ${CORES_PER_PROCESS} cores); one journal, report and per-host cap

${OUTPUT}

${FETCH}

${DISPLAY}

${MANIFEST}

${REBUILD_EXIT_CODES}`;

export const SCAN_HELP = `Usage: rethumb scan MANIFEST --out DIR [options]

Check which of MANIFEST's records DIR is missing (some variant absent) or
holds degraded (derived stand-ins), without fetching anything. Prints counts;
--list writes those records as JSON Lines: a manifest, rebuild it to fill
exactly those.

With --verify, every stored variant is also read and checked: its structure,
and the checksum rethumb seals into each thumbnail (files written before
checksums existed: structure and header). Damaged records go to --list,
marked so that \`rethumb rebuild LIST --out DIR\` refetches them although
their files exist.

Given none of --variant, --format and --quality, scan looks for what DIR's
last rebuild wrote (the settings its journal recorded), not the defaults.

Scan options:
  --list FILE               Write missing, degraded, damaged and invalid
                            records as JSON Lines ("-" for stdout)
  --concurrency N           Records checked at once (default 32, at most 1000)
  --verify                  Read and check every stored variant for damage
  --decode                  Also decode every variant in full (implies
                            --verify; slower; it adds to the checksum only for
                            files written before checksums existed)

${OUTPUT}

${DISPLAY}

${MANIFEST}

${SCAN_EXIT_CODES}`;

export const ESTIMATE_HELP = `Usage: rethumb estimate MANIFEST --out DIR [--sample N] [options]

Run a real sample of MANIFEST (every k-th record, spread over the whole file)
with the settings the job will use, then predict the whole job: its duration
at --concurrency, bytes to download and bytes to write, each with a 95%
interval. The sample's thumbnails are real work and are kept in DIR.
MANIFEST must be a file (it is read twice).

Estimate options:
  --sample N                Records to run for real (default 200)
  --only-missing            Skip stored records, as the job will (default)
  --no-only-missing         Predict a job that rebuilds every record
  --retry-degraded          Predict a job that replaces degraded thumbnails

${OUTPUT}

${FETCH}

${DISPLAY}

${MANIFEST}

${EXIT_CODES}`;
