import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, InvalidKeyError, isRethumbError } from '../../src/errors.js';
import { assertValidAddress, assertValidKey, assertValidPrefix, keyForRecord, keyForUrl, keyProblem } from '../../src/storage/store-key.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isRethumbError(error) ? error.code : `not a rethumb error: ${String(error)}`;
  }
  return undefined;
}

const INVALID: ReadonlyArray<[string, unknown]> = [
  ['empty', ''],
  ['not a string (number)', 42],
  ['not a string (null)', null],
  ['not a string (undefined)', undefined],
  ['absolute', '/etc/passwd'],
  ['absolute root', '/'],
  ['drive letter', 'C:'],
  ['drive-relative', 'C:foo'],
  ['drive absolute with slash', 'c:/windows'],
  ['one-letter drive', 'a:b'],
  ['backslash', 'a\\b'],
  ['backslash traversal', '..\\..\\etc'],
  ['UNC', '\\\\server\\share'],
  ['NUL', 'a\0b'],
  ['control char 0x01', 'a\u0001b'],
  ['newline', 'a\nb'],
  ['tab', 'a\tb'],
  ['control char 0x1f', '\u001f'],
  ['DEL 0x7f', 'a\u007fb'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/'],
  ['only slash', '//'],
  ['dot', '.'],
  ['dot-dot', '..'],
  ['dot segment', 'a/./b'],
  ['dot-dot segment', 'a/../b'],
  ['leading dot-dot', '../x'],
  ['escape', 'a/../../x'],
  ['trailing dot-dot', 'a/..'],
  ['hidden segment', '.hidden'],
  ['hidden inner segment', 'a/.git/b'],
  ['temp-like name', 'a/.small.webp.1234.tmp'],
  ['lone high surrogate', 'a\ud800b'],
  ['lone low surrogate', 'a\udc00'],
  ['segment over 255 bytes', 'x'.repeat(256)],
  ['segment over 255 bytes in UTF-8', 'é'.repeat(128)],
  ['over 1024 chars', `${'a'.repeat(200)}/`.repeat(5) + 'a'.repeat(20)],
];

const VALID: readonly string[] = [
  'a',
  'users/42',
  'a/b/c/d/e',
  'a..b',
  'a.',
  'a/b.webp',
  '%2e%2e',
  '%2e%2e/%2f',
  '~',
  '~root',
  'ab:c',
  'x/C:',
  '1:',
  'with space',
  ' ',
  'photos/日本/ü',
  'emoji/😀',
  'x'.repeat(255),
  'é'.repeat(127),
  `${'a'.repeat(203)}/`.repeat(4) + 'a'.repeat(208), // exactly 1024
];

describe('assertValidKey', () => {
  it.each(INVALID)('refuses %s', (_label, key) => {
    expect(codeOf(() => assertValidKey(key))).toBe(ErrorCodes.INVALID_KEY);
    expect(keyProblem(key)).toBeTypeOf('string');
  });

  it.each(VALID.map((k) => [k]))('accepts %j', (key) => {
    expect(assertValidKey(key)).toBe(key);
  });

  it('checks the 1024-character limit at its edge', () => {
    const exact = `${'a'.repeat(203)}/`.repeat(4) + 'a'.repeat(208);
    expect(exact).toHaveLength(1024);
    expect(assertValidKey(exact)).toBe(exact);
    expect(codeOf(() => assertValidKey(`${exact}a`))).toBe(ErrorCodes.INVALID_KEY);
  });

  it('names the key in the error and keeps it', () => {
    try {
      assertValidKey('../x');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidKeyError);
      expect((error as InvalidKeyError).key).toBe('../x');
    }
  });
});

describe('assertValidPrefix', () => {
  it('accepts the empty prefix, keys, and keys followed by one slash', () => {
    for (const prefix of ['', 'a', 'a/', 'users/4', 'users/', 'a/b']) expect(assertValidPrefix(prefix)).toBe(prefix);
  });

  it.each([['/'], ['/a'], ['a//'], ['../'], ['..'], ['a/..'], ['.x'], ['a\\'], ['a\0'], [5], [null]])('refuses %j', (prefix) => {
    expect(codeOf(() => assertValidPrefix(prefix))).toBe(ErrorCodes.INVALID_KEY);
  });
});

describe('assertValidAddress', () => {
  it('maps a valid address to <variant>.<ext>', () => {
    expect(assertValidAddress({ key: 'a/b', variant: 'small', format: 'webp' }).fileName).toBe('small.webp');
    expect(assertValidAddress({ key: 'a', variant: 'x_1-2', format: 'jpeg' }).fileName).toBe('x_1-2.jpg');
    expect(assertValidAddress({ key: 'a', variant: 'L', format: 'png' }).fileName).toBe('L.png');
    expect(assertValidAddress({ key: 'a', variant: 'L', format: 'avif' }).fileName).toBe('L.avif');
  });

  it.each([['', 'variant'], ['.x', 'variant'], ['..', 'variant'], ['a/b', 'variant'], ['a.b', 'variant'], ['-a', 'variant'], ['x'.repeat(65), 'variant']])(
    'refuses variant %j',
    (variant) => {
      expect(codeOf(() => assertValidAddress({ key: 'a', variant, format: 'webp' }))).toBe(ErrorCodes.INVALID_KEY);
    },
  );

  it.each([['gif'], ['jpg'], ['toString'], ['__proto__'], ['']])('refuses format %j', (format) => {
    expect(codeOf(() => assertValidAddress({ key: 'a', variant: 'small', format: format as 'webp' }))).toBe(ErrorCodes.INVALID_KEY);
  });

  it('refuses a bad key in the address', () => {
    expect(codeOf(() => assertValidAddress({ key: '../a', variant: 'small', format: 'webp' }))).toBe(ErrorCodes.INVALID_KEY);
  });
});

describe('keyForUrl and keyForRecord', () => {
  it('is sha256 hex sharded as 2/30 and stable', () => {
    // sha256("https://example.com/a.jpg"), computed independently with `sha256sum`.
    const key = keyForUrl('https://example.com/a.jpg');
    expect(key).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{30}$/);
    expect(key).toBe(keyForUrl('https://example.com/a.jpg'));
    expect(keyForUrl('https://example.com/b.jpg')).not.toBe(key);
    expect(assertValidKey(key)).toBe(key);
  });

  it('matches a known digest', () => {
    // printf %s 'abc' | sha256sum → ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(keyForUrl('abc')).toBe('ba/7816bf8f01cfea414140de5dae2223');
  });

  it('uses the record key when present and validates it', () => {
    expect(keyForRecord({ key: 'users/42', url: 'https://example.com/a.jpg' })).toBe('users/42');
    expect(keyForRecord({ url: 'https://example.com/a.jpg' })).toBe(keyForUrl('https://example.com/a.jpg'));
    expect(codeOf(() => keyForRecord({ key: '../etc', url: 'https://example.com/a.jpg' }))).toBe(ErrorCodes.INVALID_KEY);
    expect(codeOf(() => keyForRecord({ key: '', url: 'https://example.com/a.jpg' }))).toBe(ErrorCodes.INVALID_KEY);
  });

  it('refuses a non-string url with INVALID_RECORD', () => {
    expect(codeOf(() => keyForUrl(undefined as unknown as string))).toBe(ErrorCodes.INVALID_RECORD);
  });
});

describe('no valid key resolves outside a root', () => {
  // An adversarial alphabet: traversal pieces, separators of both platforms, drive letters,
  // encodings, controls and Unicode look-alikes.
  const PIECES = ['.', '..', '/', '\\', ':', 'C:', 'a', 'b', '%2e', '%2f', '~', ' ', '\0', '\n', 'é', '\u2024', '\uff0e', '\u202e', '\ud800', '😀', '..a', 'a..'];
  let state = 0x2545f491;
  function random(n: number): number {
    // xorshift32: deterministic, so a failure reproduces.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  }
  function candidate(): string {
    let s = '';
    const length = 1 + random(8);
    for (let i = 0; i < length; i++) s += PIECES[random(PIECES.length)];
    return s;
  }

  it('holds for 20 000 generated candidates under POSIX and Windows path rules', () => {
    const posixRoot = '/srv/thumbs';
    const winRoot = 'D:\\srv\\thumbs';
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = candidate();
      if (keyProblem(key) !== undefined) continue;
      accepted++;
      const posix = path.posix.resolve(posixRoot, key);
      expect(posix.startsWith(`${posixRoot}/`), key).toBe(true);
      expect(path.posix.relative(posixRoot, posix).split('/')).not.toContain('..');
      const win = path.win32.resolve(winRoot, key);
      expect(win.toLowerCase().startsWith(`${winRoot.toLowerCase()}\\`), key).toBe(true);
      expect(path.win32.relative(winRoot, win).split('\\')).not.toContain('..');
    }
    // The generator must actually produce both kinds, or the test proves nothing.
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(20_000);
  });

  describe('on a real file system', () => {
    let parent: string;
    let root: string;
    beforeAll(async () => {
      parent = await mkdtemp(path.join(tmpdir(), 'rethumb-keys-'));
      root = path.join(parent, 'root');
      await mkdir(root);
    });
    afterAll(async () => {
      await rm(parent, { recursive: true, force: true });
    });

    it('writes every valid tricky key inside root and nothing beside it', async () => {
      for (const key of VALID) {
        const dir = path.resolve(root, key);
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'probe'), key);
        expect(path.relative(root, dir).startsWith('..')).toBe(false);
      }
      expect(await readdir(parent)).toEqual(['root']);
    });
  });
});
