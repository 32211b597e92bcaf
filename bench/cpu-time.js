/**
 * CPU time readings the bench needs beyond `process.resourceUsage()`.
 *
 * `mainThreadCpuMs()`: CPU time of this process's main thread — the JavaScript thread. Its
 * cost per image is the per-process ceiling of a rebuild: fetching, sniffing, storing and
 * journaling all run there, so one process cannot finish more than 1000 / (main-thread CPU ms
 * per image) images a second, however many cores render for it.
 * `process.threadCpuUsage()` exists from Node 23.9; on Node 20 and 22 the figure comes from
 * Linux's `/proc/self/task/<tid>/stat` (the main thread's tid is the pid), in clock ticks of
 * 10 ms — ample over hundreds of images. Undefined where neither exists.
 *
 * `childrenCpuMs()`: CPU time of the worker processes of `--processes N`, once they exited.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc` times (`getconf CLK_TCK`: 100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = 100;

/**
 * The fields of a `/proc/self/…/stat` line after the command name (which may hold spaces):
 * element 0 is field 3 of proc(5).
 * @param {string} path
 */
function statFields(path) {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** @returns {number | undefined} */
export function mainThreadCpuMs() {
  const usage = /** @type {{ threadCpuUsage?: () => { user: number, system: number } }} */ (/** @type {unknown} */ (process)).threadCpuUsage?.();
  if (usage) return (usage.user + usage.system) / 1000;
  try {
    // utime and stime: fields 14 and 15.
    const fields = statFields(`/proc/self/task/${process.pid}/stat`);
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of this process's children that have exited and been waited for, in ms: the worker
 * processes of `rethumb rebuild --processes N`, once the job has closed them. Linux only.
 * @returns {number | undefined}
 */
export function childrenCpuMs() {
  try {
    // cutime and cstime: fields 16 and 17.
    const fields = statFields('/proc/self/stat');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
