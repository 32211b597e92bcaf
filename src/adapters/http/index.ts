/**
 * `rethumb/http`: serve `/<variant>/<key>` from a regenerator over `node:http`, Express or
 * Fastify, with ETags, 304s, and caching that is long for real thumbnails and short for stand-ins.
 */
export { createThumbnailHandler, type ThumbnailHandler, type ThumbnailHandlerOptions, type HandlerRegenerator } from './thumbnail-handler.js';
export { parseThumbnailPath, type ThumbnailPath } from './parse-thumbnail-path.js';
export { etagOf, ifNoneMatch } from './etag.js';
