/** The default path layout of the HTTP handler: `/<variant>/<key>`, each segment percent-decoded. */

/** What a request path names. */
export interface ThumbnailPath {
  variant: string;
  /** The store key, e.g. `users/42` (not yet validated). */
  key: string;
}

/**
 * `/<variant>/<key…>` → `{ variant, key }`; `undefined` when the path has fewer than two
 * segments or a segment is not valid percent-encoding. The key keeps its inner slashes, so
 * `/small/users/42` is key `users/42`.
 */
export function parseThumbnailPath(pathname: string): ThumbnailPath | undefined {
  const segments = pathname.split('/').slice(1);
  if (segments.length < 2) return undefined;
  try {
    const [variant, ...rest] = segments.map((s) => decodeURIComponent(s));
    if (variant === undefined || variant.length === 0) return undefined;
    return { variant, key: rest.join('/') };
  } catch {
    // A malformed escape (`%zz`) names nothing.
    return undefined;
  }
}
