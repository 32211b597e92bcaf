/**
 * What to do about a run's fallbacks, in command-line terms: a per-reason table for the summary,
 * and advice with the command to paste ("run again with --allow-host 127.0.0.1:8123"). Refusals
 * by our own configuration (the address policy, SVG) always get advice, since a flag fixes them;
 * other reasons get it when they dominate (at least half of the fallbacks).
 */
import { ErrorCodes } from '../errors.js';
import type { FallbackReasonCounts, ReasonCount } from '../batch/fallback-reasons.js';
import { formatCount, formatRecords } from './format.js';
import type { GivenOption } from './job-settings.js';
import { reasonText } from './reason-text.js';

/** Reasons a run again cannot change: the record itself is malformed (fix the manifest). */
export const MALFORMED_RECORD_REASONS: ReadonlySet<string> = new Set<string>([
  ErrorCodes.INVALID_URL,
  ErrorCodes.UNSUPPORTED_PROTOCOL,
  ErrorCodes.INVALID_RECORD,
  ErrorCodes.INVALID_KEY,
]);

export interface Advice {
  /** The reason it is about. */
  reason: string;
  message: string;
  /** A command to paste, when a flag is the fix. */
  command?: string;
}

export interface AdviceContext {
  /** Records that fell back. */
  fallbacks: number;
  reasons: FallbackReasonCounts;
  /** The user's command with `extra` options added, ready to paste. */
  rerun(extra: readonly GivenOption[]): string;
  /** Whether a fallback report lists each record (rebuild's); estimate writes none. @default true */
  listed?: boolean;
}

/** Hosts named in a line before "and N more". */
const HOSTS_SHOWN = 3;
/** Above this many refused hosts, --allow-private-networks is the simpler advice. */
const MANY_HOSTS = 5;

/** The per-reason lines of a summary: `    20  RETHUMB_FORBIDDEN_ADDRESS: refused by … (127.0.0.1:8123)`. */
export function reasonLines(reasons: FallbackReasonCounts, indent = '    '): string[] {
  const entries = Object.entries(reasons);
  const width = Math.max(0, ...entries.map(([, r]) => formatCount(r.count).length));
  return entries.map(([reason, r]) => {
    const hosts = hostList(r);
    return `${indent}${formatCount(r.count).padStart(width)}  ${reason}: ${reasonText(reason)}${hosts ? `; ${hosts}` : ''}`;
  });
}

export function advise(context: AdviceContext): Advice[] {
  const advice: Advice[] = [];
  const dominant = (r: ReasonCount): boolean => r.count * 2 >= context.fallbacks;
  // Malformed records are advised as one group (a bad URL, a bad protocol, a record too long: one fix).
  const malformed = Object.entries(context.reasons).reduce((n, [reason, r]) => n + (MALFORMED_RECORD_REASONS.has(reason) ? r.count : 0), 0);
  let malformedAdvised = false;
  for (const [reason, r] of Object.entries(context.reasons)) {
    const n = formatRecords(r.count);
    const were = r.count === 1 ? 'was' : 'were';
    switch (reason) {
      case ErrorCodes.FORBIDDEN_ADDRESS: {
        const hosts = Object.keys(r.hosts);
        const many = hosts.length > MANY_HOSTS || r.otherHosts > 0 || hosts.length === 0;
        advice.push({
          reason,
          message:
            `${n} ${were} refused by the address policy, which blocks loopback, private, link-local and ` +
            'metadata addresses so that a URL cannot reach your internal network. ' +
            (many ? 'If you trust these hosts, allow every private address:' : `If you trust ${hosts.join(' and ')}, run again with --allow-host:`),
          command: context.rerun(many ? [{ name: 'allow-private-networks', value: undefined }] : hosts.map((h) => ({ name: 'allow-host', value: h }))),
        });
        break;
      }
      case ErrorCodes.UNSUPPORTED_FORMAT:
        if ((r.refusedBy.allowSvg ?? 0) > 0) {
          advice.push({
            reason,
            message: `${formatCount(r.refusedBy.allowSvg!)} ${r.refusedBy.allowSvg === 1 ? 'source is' : 'sources are'} SVG, which is off by default (its parser is a larger attack surface). To accept SVG:`,
            command: context.rerun([{ name: 'allow-svg', value: undefined }]),
          });
        }
        break;
      case ErrorCodes.RECENTLY_FAILED:
        if (dominant(r)) {
          advice.push({
            reason,
            message:
              `${n} ${were} not fetched: ${r.count === 1 ? 'it' : 'they'} failed in an earlier run, and the failure memory ` +
              `(DIR/.rethumb/failures.jsonl) re-checks ${r.count === 1 ? 'it' : 'them'} only after 1h, 4h, 16h … To try ${r.count === 1 ? 'it' : 'them'} now:`,
            command: context.rerun([{ name: 'retry-failed', value: undefined }]),
          });
        }
        break;
      case ErrorCodes.TOO_LARGE:
      case ErrorCodes.PIXEL_LIMIT:
        if (dominant(r)) {
          const [flag, example] = reason === ErrorCodes.TOO_LARGE ? ['max-bytes', '104857600'] : ['max-pixels', '250000000'];
          advice.push({
            reason,
            message: `${n} ${were} over --${flag}. If they are genuine, raise it (failures against limits are remembered, so add --retry-failed):`,
            command: context.rerun([
              { name: flag, value: example },
              { name: 'retry-failed', value: undefined },
            ]),
          });
        }
        break;
      case ErrorCodes.TIMEOUT:
      case ErrorCodes.CONNECTION:
      case ErrorCodes.ORIGIN_UNAVAILABLE:
        if (dominant(r)) {
          advice.push({
            reason,
            message:
              `${n} failed on a slow or unreachable origin (${hostList(r)}). Check that it is up; ` +
              'transient failures are retried by the next run (lower --per-host or --concurrency if it is overloaded).',
          });
        }
        break;
      case ErrorCodes.HTTP_STATUS:
      case ErrorCodes.NOT_AN_IMAGE:
      case ErrorCodes.DECODE_FAILED:
        if (dominant(r)) {
          advice.push({
            reason,
            message:
              context.listed === false
                ? `${n} failed at the origin (${hostList(r)}): check their URLs, or give mirrors.`
                : `${n} failed at the origin (${hostList(r)}): the fallback report has each record's URL and status; check them, or give mirrors.`,
          });
        }
        break;
      case ErrorCodes.INVALID_URL:
      case ErrorCodes.UNSUPPORTED_PROTOCOL:
      case ErrorCodes.INVALID_RECORD:
      case ErrorCodes.INVALID_KEY:
        // MALFORMED_RECORD_REASONS: only an edit of the manifest changes these.
        if (!malformedAdvised && malformed * 2 >= context.fallbacks) {
          malformedAdvised = true;
          advice.push({
            reason,
            message: `${formatRecords(malformed)} ${malformed === 1 ? 'is' : 'are'} malformed${context.listed === false ? '' : ' (see the fallback report, which has their manifest lines)'}: fix them in the manifest.`,
          });
        }
        break;
    }
  }
  return advice;
}

/**
 * Advice as summary lines: the message wrapped to 80 columns, then the command on a line of its
 * own (never wrapped: it is for pasting).
 */
export function adviceLines(advice: readonly Advice[], indent = '  '): string[] {
  return advice.flatMap((a) => [...wrap(`what to do: ${a.message}`, 80, indent, `${indent}  `), ...(a.command ? [`${indent}    ${a.command}`] : [])]);
}

/** `text` in lines of at most `width` columns (a longer word stays whole). */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const prefix = lines.length === 0 ? first : rest;
    if (line !== prefix && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else line = line === prefix ? prefix + word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** `127.0.0.1:8123`, or `a.example 12, b.example 3, and more hosts`; empty without hosts. */
function hostList(r: ReasonCount): string {
  const hosts = Object.entries(r.hosts).sort(([, a], [, b]) => b - a);
  if (hosts.length === 0) return '';
  const shown = hosts.slice(0, HOSTS_SHOWN).map(([host, count]) => (hosts.length === 1 && r.otherHosts === 0 ? host : `${host} ${formatCount(count)}`));
  const more = hosts.length > shown.length || r.otherHosts > 0;
  return `${shown.join(', ')}${more ? ', and more hosts' : ''}`;
}
