/**
 * What each reason code means, in a few words, for the command line's summaries. Typed over
 * every `ErrorCode`, so a new code cannot ship without a line here; the README's reasons table
 * lists the same codes (a test checks it).
 */
import { ErrorCodes, type ErrorCode } from '../errors.js';

export const REASON_TEXT: Readonly<Record<ErrorCode, string>> = {
  [ErrorCodes.HTTP_STATUS]: 'the origin answered an error status (404, 410, 5xx …)',
  [ErrorCodes.TIMEOUT]: 'the origin was too slow (connect, headers or total deadline)',
  [ErrorCodes.CONNECTION]: 'the connection failed (refused, reset, DNS)',
  [ErrorCodes.TOO_LARGE]: 'the source is larger than --max-bytes',
  [ErrorCodes.NOT_AN_IMAGE]: 'the origin sent something else than an image (an error page?)',
  [ErrorCodes.UNSUPPORTED_FORMAT]: 'an image format that is not accepted (SVG without --allow-svg, BMP …)',
  [ErrorCodes.PIXEL_LIMIT]: 'the image has more pixels than --max-pixels',
  [ErrorCodes.DECODE_FAILED]: 'the image is truncated or corrupt',
  [ErrorCodes.FORBIDDEN_ADDRESS]: 'refused by the address policy (a private or loopback address)',
  [ErrorCodes.INVALID_URL]: 'the URL cannot be parsed',
  [ErrorCodes.UNSUPPORTED_PROTOCOL]: 'the URL is not http: or https:',
  [ErrorCodes.TOO_MANY_REDIRECTS]: 'too many redirects',
  [ErrorCodes.REDIRECT_LOOP]: 'a redirect loop',
  [ErrorCodes.INVALID_RECORD]: 'the record is malformed',
  [ErrorCodes.INVALID_KEY]: 'the record\'s key is unsafe or malformed',
  [ErrorCodes.ORIGIN_UNAVAILABLE]: 'the host failed repeatedly; its circuit was open',
  [ErrorCodes.RECENTLY_FAILED]: 'on hold: failed in an earlier run, not re-checked yet',
  [ErrorCodes.DEADLINE]: 'the deadline passed first',
  [ErrorCodes.ABORTED]: 'aborted',
  [ErrorCodes.STORE]: 'the store could not be read or written',
  [ErrorCodes.STORE_CORRUPT]: 'a stored thumbnail is damaged',
  [ErrorCodes.CLOSED]: 'the regenerator was closed',
  [ErrorCodes.CONFIG]: 'an option is invalid',
  [ErrorCodes.UNKNOWN_VARIANT]: 'an unknown variant',
  [ErrorCodes.UNKNOWN_KEY]: 'no record for the key',
  [ErrorCodes.JOURNAL]: 'the journal cannot be used',
  [ErrorCodes.MANIFEST]: 'the manifest cannot be read',
  [ErrorCodes.UNSUPPORTED_ENCODING]: 'the origin compressed the body in a way rethumb cannot decode',
  [ErrorCodes.CORRUPT_ENCODING]: 'the compressed body is corrupt or truncated',
  [ErrorCodes.ENCODE_FAILED]: 'a variant could not be encoded in the output format (the others were kept)',
  [ErrorCodes.INVALID_THUMBHASH]: 'the record\'s thumbhash is not a ThumbHash (a flat placeholder)',
};

/** The text of a reason as the summary counts it (`none` for a fallback without one). */
export function reasonText(reason: string): string {
  return (REASON_TEXT as Record<string, string>)[reason] ?? 'no reason recorded';
}
