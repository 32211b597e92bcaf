/** The module hook of `without-thumbhash.js`: `dist/imaging/thumbhash.js` becomes a stub. */

const STUB = 'export const HASH_SIDE = 32;\nexport function thumbHashOf() { return undefined; }\n';

/**
 * @param {string} url
 * @param {object} context
 * @param {(url: string, context: object) => Promise<object>} nextLoad
 */
export async function load(url, context, nextLoad) {
  if (url.endsWith('/dist/imaging/thumbhash.js')) return { format: 'module', source: STUB, shortCircuit: true };
  return nextLoad(url, context);
}
