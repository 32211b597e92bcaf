/**
 * V8 heap tuning for the `rethumb` process (the bin only: a library never changes its host's
 * V8 flags).
 *
 * Why: V8 (Node 20's 11.3 and Node 24's 13.6 alike) counts external memory allocated since the
 * last mark-compact — every ArrayBuffer: downloaded bodies, socket reads, sharp's decoded
 * pixels — against the old generation's allocation limit, which it sizes from the JS heap
 * alone. A batch rebuild has a JS heap of ~14 MB and allocates ~2 MB of ArrayBuffers per image,
 * so the limit (~27 MB) is reached every few images and V8 starts a full mark-compact each
 * time: 37–54 per 300 images, measured with `--trace-gc`, about 2 ms of CPU per image on the
 * main thread and V8's helper threads. A larger growing factor makes the limit follow the heap
 * at 4× its live size instead of ~1.1–2×; the same run then does 3–7 mark-compacts, at about
 * +25 MB peak RSS (README, Performance).
 *
 * `heap_growing_percent` is read at every collection, so setting it at start-up takes effect
 * (unlike `--initial-heap-size`, which only works on the command line and which `NODE_OPTIONS`
 * refuses).
 */
import { setFlagsFromString } from 'node:v8';

/** V8's heap growing factor for the CLI: 1 + this / 100. */
export const CLI_HEAP_GROWING_PERCENT = 300;

const FLAG = '--heap-growing-percent';

let applied: string | undefined;

/**
 * Set V8's heap growing factor for a batch process, unless the command line already sets it
 * (`node --heap-growing-percent=0 …/rethumb …` keeps V8's default). Returns the flag it set, or
 * undefined when it left V8 alone.
 */
export function tuneHeapForBatch(execArgv: readonly string[] = process.execArgv): string | undefined {
  if (execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`) || arg.startsWith('--heap_growing_percent'))) return undefined;
  const flag = `${FLAG}=${CLI_HEAP_GROWING_PERCENT}`;
  setFlagsFromString(flag);
  applied = flag;
  return flag;
}

/** The flag `tuneHeapForBatch()` set in this process, if any: worker processes start with it. */
export function appliedHeapFlag(): string | undefined {
  return applied;
}
