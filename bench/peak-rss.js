/**
 * The peak resident set of THIS process, in bytes.
 *
 * Not `process.resourceUsage().maxRSS`: on Linux, getrusage's high-water mark survives `exec`,
 * so a child spawned by a parent that once held 400 MB reports at least 400 MB whatever it did
 * itself (measured: 385 MB for a child whose own peak was 39 MB). `/proc/self/status`'s
 * `VmHWM` is the high-water mark of this process's own address space. Elsewhere the getrusage
 * figure is the best there is.
 */
import { readFileSync } from 'node:fs';

/** @returns {number} */
export function peakRssBytes() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS * 1024;
}
