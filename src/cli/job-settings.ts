/**
 * The flags that define a `rethumb rebuild` job. A run records the ones it was given in its
 * journal's header; `--resume` restores them, so the printed `rethumb rebuild MANIFEST --out DIR
 * --resume` is all a user needs to continue, whatever flags started the job. The same list
 * decides what the printed "retry them" and "run again" commands carry.
 *
 * A new flag that changes what a job does joins with one line here:
 * - `same`: the job's output; a resumed run given another value is refused (one line, exit 2);
 * - `restored`: restored unless given again, which overrides it (more `--concurrency`, another
 *   `--allow-host` …).
 * Flags not listed (display: `--quiet`, `--json`, `--progress-interval`; `--resume` itself) are
 * never recorded.
 */
import { UsageError } from './usage-error.js';

export const JOB_SETTINGS: Readonly<Record<string, 'same' | 'restored'>> = {
  variant: 'same',
  format: 'same',
  quality: 'same',
  'manifest-format': 'same',
  'only-missing': 'restored',
  'no-only-missing': 'restored',
  'retry-degraded': 'restored',
  'retry-failed': 'restored',
  report: 'restored',
  fallbacks: 'restored',
  grace: 'restored',
  hashes: 'restored',
  verify: 'restored',
  concurrency: 'restored',
  'per-host': 'restored',
  'allow-host': 'restored',
  'allow-private-networks': 'restored',
  'allow-svg': 'restored',
  'max-bytes': 'restored',
  'max-pixels': 'restored',
  'render-concurrency': 'restored',
  'pixel-budget': 'restored',
  // Where the job runs, not what it does: a resumed run may use another machine's sizing.
  processes: 'restored',
  cores: 'restored',
};

/**
 * The rebuild flags that are not the job's: where it runs (`--out`, given again anyway), how it
 * shows (`--quiet`, `--json`, `--progress-interval`), `--resume` and `--help`. Every other
 * rebuild flag must be in `JOB_SETTINGS` (a test checks it).
 */
export const NOT_RECORDED: ReadonlySet<string> = new Set(['out', 'resume', 'quiet', 'json', 'progress-interval', 'help']);

/** One option as given on the command line (`value` undefined for a boolean flag). */
export interface GivenOption {
  name: string;
  value: string | undefined;
}

/** The job settings among `given`, as recorded in a journal: `[name, value | null]` pairs. */
export function recordSettings(given: readonly GivenOption[]): Array<[string, string | null]> {
  return given.filter((o) => o.name in JOB_SETTINGS).map((o) => [o.name, o.value ?? null]);
}

/** The settings a journal recorded, or undefined when it recorded none (an older journal, or a script's). */
export function readRecordedSettings(recorded: unknown): GivenOption[] | undefined {
  if (!Array.isArray(recorded)) return undefined;
  const settings: GivenOption[] = [];
  for (const pair of recorded) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !(pair[0] in JOB_SETTINGS)) continue;
    settings.push({ name: pair[0], value: typeof pair[1] === 'string' ? pair[1] : undefined });
  }
  return settings;
}

/**
 * The options of a resumed run: what the user gave now, plus every recorded setting they did
 * not give again. Throws `UsageError` when they gave a `same` setting another value.
 */
export function mergeSettings(recorded: readonly GivenOption[], given: readonly GivenOption[]): GivenOption[] {
  const givenNames = new Set(given.map((o) => o.name));
  for (const name of givenNames) {
    if (JOB_SETTINGS[name] !== 'same') continue;
    const before = recorded.filter((o) => o.name === name);
    const now = given.filter((o) => o.name === name);
    if (words(before) === words(now)) continue;
    const started = before.length === 0 ? `without --${name}` : `with ${words(before)}`;
    throw new UsageError(
      `--resume: this job was started ${started}, not ${words(now)}; ` +
        `leave --${name} out to continue it, or run without --resume to start anew`,
    );
  }
  return [...given, ...recorded.filter((o) => !givenNames.has(o.name))];
}

/**
 * `options` with `extra` added: a repeatable option (`--allow-host`) gains the value unless it
 * is there; any other replaces its earlier value (a raised `--max-bytes`).
 */
export function withOptions(options: readonly GivenOption[], extra: readonly GivenOption[], isRepeatable: (name: string) => boolean): GivenOption[] {
  let out = [...options];
  for (const o of extra) {
    if (isRepeatable(o.name)) {
      if (!out.some((s) => s.name === o.name && s.value === o.value)) out.push(o);
    } else {
      out = [...out.filter((s) => s.name !== o.name), o];
    }
  }
  return out;
}

/** Options as command-line words: `--name value`, `--name=value` when the value starts with `-`, `--flag`. */
export function optionWords(options: readonly GivenOption[]): string[] {
  return options.flatMap((o) =>
    o.value === undefined ? [`--${o.name}`] : o.value.startsWith('-') ? [`--${o.name}=${o.value}`] : [`--${o.name}`, o.value],
  );
}

function words(options: readonly GivenOption[]): string {
  return optionWords(options).join(' ');
}
