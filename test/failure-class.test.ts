import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';
import { classifyFailure } from '../src/failure-class.js';

describe('classifyFailure', () => {
  it.each([
    [ErrorCodes.HTTP_STATUS, 404, 'permanent'],
    [ErrorCodes.HTTP_STATUS, 410, 'permanent'],
    [ErrorCodes.HTTP_STATUS, 403, 'permanent'],
    [ErrorCodes.HTTP_STATUS, 501, 'permanent'],
    [ErrorCodes.HTTP_STATUS, 408, 'transient'],
    [ErrorCodes.HTTP_STATUS, 425, 'transient'],
    [ErrorCodes.HTTP_STATUS, 429, 'transient'],
    [ErrorCodes.HTTP_STATUS, 500, 'transient'],
    [ErrorCodes.HTTP_STATUS, 502, 'transient'],
    [ErrorCodes.HTTP_STATUS, 503, 'transient'],
    [ErrorCodes.HTTP_STATUS, 504, 'transient'],
    [ErrorCodes.TIMEOUT, undefined, 'transient'],
    [ErrorCodes.CONNECTION, undefined, 'transient'],
    [ErrorCodes.ORIGIN_UNAVAILABLE, undefined, 'transient'],
    [ErrorCodes.NOT_AN_IMAGE, undefined, 'permanent'],
    [ErrorCodes.TOO_LARGE, undefined, 'permanent'],
    [ErrorCodes.FORBIDDEN_ADDRESS, undefined, 'local'],
    [ErrorCodes.UNSUPPORTED_FORMAT, undefined, 'permanent'],
    [ErrorCodes.PIXEL_LIMIT, undefined, 'permanent'],
    [ErrorCodes.DECODE_FAILED, undefined, 'permanent'],
    [ErrorCodes.INVALID_URL, undefined, 'permanent'],
  ] as const)('%s %s is %s', (code, status, expected) => {
    expect(classifyFailure({ code, status })).toBe(expected);
  });

  it('a refusal by configuration (refusedBy) is local whatever its code; limits stay permanent', () => {
    expect(classifyFailure({ code: ErrorCodes.UNSUPPORTED_FORMAT, refusedBy: 'allowSvg' })).toBe('local');
    expect(classifyFailure({ code: ErrorCodes.TOO_LARGE })).toBe('permanent');
    expect(classifyFailure({ code: ErrorCodes.PIXEL_LIMIT })).toBe('permanent');
  });
});
