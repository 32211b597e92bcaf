/**
 * A `ConfigError` in the command line's terms: it names the flag the user typed (`--per-host`),
 * not the library option behind it (`perHost.concurrency`).
 */
import type { ConfigError } from '../errors.js';

/** Library option → the flag that sets it. */
const FLAGS: Readonly<Record<string, string>> = {
  format: '--format',
  quality: '--quality',
  concurrency: '--concurrency',
  'perHost.concurrency': '--per-host',
  renderConcurrency: '--render-concurrency',
  renderPixelBudget: '--pixel-budget',
  maxBytes: '--max-bytes',
  maxPixels: '--max-pixels',
};

export function configMessage(error: ConfigError): string {
  const option = error.option;
  const variant = /^variants(?:\.([^.[]+)|\["([^"]+)"\])(?:\.(\w+))?$/.exec(option);
  const flag = FLAGS[option] ??
    (/^allowHosts\[\d+\]$/.test(option) ? '--allow-host' : undefined) ??
    (variant ? `the ${variant[3] ?? 'name'} of --variant ${variant[1] ?? variant[2]}` : undefined);
  return flag === undefined ? error.message : error.message.replace(`\`${option}\``, flag);
}
