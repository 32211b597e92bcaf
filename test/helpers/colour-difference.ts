/**
 * Colour difference for tests: the mean colour of an image as a viewer sees it (flattened on
 * white) and the CIE76 ΔE between two colours in CIELAB (D65). A ΔE near 2 is barely visible;
 * 10 is "clearly different, but the same family".
 */
import sharp from 'sharp';

export type Rgb = { r: number; g: number; b: number };

/** Mean sRGB colour of `body` (0–255 per channel), transparency flattened on white. */
export async function meanColour(body: Buffer): Promise<Rgb> {
  const { channels } = await sharp(body).flatten({ background: '#ffffff' }).toColourspace('srgb').stats();
  return { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
}

/** CIE76 ΔE between two sRGB colours. */
export function deltaE76(a: Rgb, b: Rgb): number {
  const [l1, a1, b1] = lab(a);
  const [l2, a2, b2] = lab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

function lab({ r, g, b }: Rgb): [number, number, number] {
  const lin = (v: number): number => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
