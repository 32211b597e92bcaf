/**
 * Fallbacks counted per reason, with the hosts behind each reason and the options that refused
 * them, so a summary can say what went wrong ("20 refused by the address policy, all on
 * 127.0.0.1:8123") instead of only "placeholder 20". Bounded: at most `MAX_HOSTS` hosts are named
 * per reason; the others are counted together.
 */
import type { ErrorCode } from '../errors.js';

/** What the summary knows about one reason. */
export interface ReasonCount {
  /** Records that fell back for this reason. */
  count: number;
  /** Records per host (`host[:port]` of the failing source URL), for the most frequent hosts first-come. */
  hosts: Record<string, number>;
  /** Records whose host is not named in `hosts` (more than `MAX_HOSTS` hosts). */
  otherHosts: number;
  /** Records per option that refused them (`allowSvg`), when our configuration did. */
  refusedBy: Record<string, number>;
}

/** Reason code (or `none`) → what is known of it. */
export type FallbackReasonCounts = Record<string, ReasonCount>;

/** The part of a failure the tally reads (a `SourceFailure`, or a journal line's failure). */
export interface ReasonFailure {
  source: string;
  code: ErrorCode;
  refusedBy?: string | undefined;
  refusedHost?: string | undefined;
}

/** Hosts named per reason. */
export const MAX_HOSTS = 20;

export class FallbackReasons {
  readonly #reasons = new Map<string, ReasonCount>();

  /** Count one fallen-back record: its reason and its source failures. */
  add(reason: ErrorCode | undefined, failures: readonly ReasonFailure[] | undefined): void {
    const name = reason ?? 'none';
    let tally = this.#reasons.get(name);
    if (!tally) {
      tally = { count: 0, hosts: {}, otherHosts: 0, refusedBy: {} };
      this.#reasons.set(name, tally);
    }
    tally.count += 1;
    // The failure the reason names (a held record's reason names none: its first failure is the original).
    const failure = failures?.find((f) => f.code === reason) ?? failures?.[0];
    // The address policy's refusal names the host it refused (a redirect's target), which --allow-host needs.
    const host = failure ? (failure.refusedHost ?? hostOf(failure.source)) : undefined;
    if (host !== undefined) {
      if (host in tally.hosts) tally.hosts[host]! += 1;
      else if (Object.keys(tally.hosts).length < MAX_HOSTS) tally.hosts[host] = 1;
      else tally.otherHosts += 1;
    }
    for (const option of new Set(failures?.map((f) => f.refusedBy).filter((o) => o !== undefined))) {
      tally.refusedBy[option] = (tally.refusedBy[option] ?? 0) + 1;
    }
  }

  /** Records counted. */
  get total(): number {
    let total = 0;
    for (const tally of this.#reasons.values()) total += tally.count;
    return total;
  }

  /** Every reason, the most frequent first. */
  toJSON(): FallbackReasonCounts {
    const sorted = [...this.#reasons].sort(([, a], [, b]) => b.count - a.count);
    return Object.fromEntries(sorted.map(([name, tally]) => [name, { ...tally, hosts: { ...tally.hosts }, refusedBy: { ...tally.refusedBy } }]));
  }
}

/** `host[:port]` as the URL spells it (IPv6 in brackets), or undefined for a source that is not a URL (`record`, `backup:0`). */
function hostOf(source: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return undefined;
  try {
    return new URL(source).host || undefined;
  } catch {
    return undefined;
  }
}
