/**
 * CPU time of this process's main thread — the JavaScript thread — in ms. This is the
 * per-process ceiling of a rebuild: fetching, sniffing, storing and journaling all run there,
 * so one process cannot finish more than 1000 / (main-thread CPU ms per image) images a second,
 * however many cores render for it.
 *
 * `process.threadCpuUsage()` exists from Node 23.9; on Node 20 and 22 the figure comes from
 * Linux's `/proc/self/task/<tid>/stat` (the main thread's tid is the pid), in clock ticks of
 * 10 ms — ample over hundreds of images. Undefined where neither exists.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc` times (`getconf CLK_TCK`: 100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = 100;

/** @returns {number | undefined} */
export function mainThreadCpuMs() {
  const usage = /** @type {{ threadCpuUsage?: () => { user: number, system: number } }} */ (/** @type {unknown} */ (process)).threadCpuUsage?.();
  if (usage) return (usage.user + usage.system) / 1000;
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the
    // 14th field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
