/**
 * `rethumb/testing`: tools for users' own test suites. A real loopback origin with staged
 * faults and hit counts, so a suite can assert rethumb's fallbacks against a real server; and
 * assertions about the thumbnails it gets back.
 */
export { isPlaceholder, isStandIn } from './is-placeholder.js';
export { expectValidThumbnail, type DecodedThumbnail } from './expect-valid-thumbnail.js';
export {
  startTestOrigin,
  type TestOrigin,
  type TestOriginOptions,
  type OriginRoute,
  type OriginRequest,
  type ImageRoute,
  type StatusRoute,
  type HtmlRoute,
  type StallRoute,
  type TrickleRoute,
  type TruncateRoute,
  type ResetRoute,
  type RedirectRoute,
  type FlakyRoute,
  type LargeRoute,
  type HandlerRoute,
} from './test-origin.js';
