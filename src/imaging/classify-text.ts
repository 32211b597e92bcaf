/**
 * What a text head is: SVG, HTML or other text. file-type knows binary signatures only, so
 * the textual formats that matter here (SVG sources, HTML error pages served with a 200) are
 * recognised by hand, conservatively: an SVG must start like one, not merely mention `<svg`.
 */

/** The verdict on a text head. */
export type TextKind =
  /** An SVG document: prolog, comments, doctype, processing instructions, then `<svg`. */
  | 'svg'
  /** An SVG whose DOCTYPE has an internal subset (`[ <!ENTITY …> ]`): entity expansion, refused. */
  | 'svg-internal-subset'
  | 'html'
  | 'text'
  /**
   * The text ends inside an XML prolog (an unclosed comment, processing instruction or DOCTYPE,
   * or before the root element): an SVG or an HTML page may follow, only more text can tell.
   */
  | 'unfinished-prolog';

// Control characters other than tab, LF, FF and CR do not occur in text files.
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/;
// The tags every HTML error page (nginx, Apache, CDNs, SPAs) carries near its start.
const HTML = /<(?:!doctype\s+html|html|head|body)[\s>]/i;
const SVG_ROOT = /^<svg[\s>/]/;
// What may follow in a prolog, upper-cased: processing instruction, comment, DOCTYPE, the root.
const PROLOG_STARTS = ['<?', '<!--', '<!DOCTYPE', '<SVG '];

/**
 * Decode a head as UTF-8 text, or `undefined` when it is binary. The head may be cut in the
 * middle of a multi-byte character (fetching passes the first 4100 bytes), so up to three
 * trailing bytes may be dropped before giving up.
 */
export function decodeText(head: Uint8Array): string | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    let text: string;
    try {
      text = decoder.decode(head.subarray(0, head.length - cut));
    } catch {
      continue;
    }
    return CONTROL.test(text) ? undefined : text;
  }
  return undefined;
}

/** Classify decoded text (a leading BOM allowed). */
export function classifyText(text: string): TextKind {
  const svg = svgRoot(text);
  if (svg !== undefined) return svg;
  return HTML.test(text) ? 'html' : 'text';
}

/**
 * Walk the XML prolog the way a parser would: BOM, whitespace, `<?xml …?>`, then any number of
 * comments, processing instructions and one DOCTYPE, and require `<svg` as the root element.
 * Anything unexpected means "not SVG"; running out of text before the root element means
 * `unfinished-prolog`.
 */
function svgRoot(text: string): TextKind | undefined {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let internalSubset = false;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    const rest = text.slice(i, i + 9);
    if (rest.startsWith('<?')) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return 'unfinished-prolog';
      i = end + 2;
    } else if (rest.startsWith('<!--')) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return 'unfinished-prolog';
      i = end + 3;
    } else if (rest.toUpperCase() === '<!DOCTYPE') {
      const end = doctypeEnd(text, i + 9);
      if (end === undefined) return 'unfinished-prolog';
      internalSubset ||= end.internalSubset;
      i = end.index;
    } else if (i + rest.length === text.length && PROLOG_STARTS.some((start) => rest.length < start.length && start.startsWith(rest.toUpperCase()))) {
      // The text stops before the next markup is long enough to tell what it is.
      return 'unfinished-prolog';
    } else {
      break;
    }
  }
  if (!SVG_ROOT.test(text.slice(i, i + 5))) return undefined;
  return internalSubset ? 'svg-internal-subset' : 'svg';
}

/** The index just past a DOCTYPE's closing `>`, skipping quoted ids and an internal subset. */
function doctypeEnd(text: string, from: number): { index: number; internalSubset: boolean } | undefined {
  let internalSubset = false;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '[') {
      internalSubset = true;
      const end = text.indexOf(']', i + 1);
      if (end < 0) return undefined;
      i = end;
    } else if (c === '>') {
      return { index: i + 1, internalSubset };
    }
  }
  return undefined;
}
