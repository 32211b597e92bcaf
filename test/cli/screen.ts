/**
 * What a terminal shows after some output: a small emulator of the control sequences a progress
 * bar uses (carriage return, cursor save/restore and moves, line clears), so a test can assert
 * the screen a user sees, not the bytes.
 */
export function screen(output: string): string[] {
  const rows: string[][] = [[]];
  let r = 0;
  let c = 0;
  let saved: [number, number] = [0, 0];
  const row = (): string[] => (rows[r] ??= []);
  for (let i = 0; i < output.length; i += 1) {
    const ch = output[i]!;
    if (ch === '\r') c = 0;
    else if (ch === '\n') r += 1;
    else if (ch === '\x1b') {
      const next = output[i + 1];
      if (next === '7' || next === '8') {
        if (next === '7') saved = [r, c];
        else [r, c] = saved;
        i += 1;
        continue;
      }
      const m = /^\[(\??)([\d;]*)([A-Za-z])/.exec(output.slice(i + 1));
      if (!m) continue;
      i += m[0].length;
      if (m[1] === '?') continue;
      const n = m[2] === '' ? undefined : Number(m[2]!.split(';')[0]);
      switch (m[3]) {
        case 'A': r = Math.max(0, r - (n ?? 1)); break;
        case 'B': r += n ?? 1; break;
        case 'C': c += n ?? 1; break;
        case 'D': c = Math.max(0, c - (n ?? 1)); break;
        case 'G': c = (n ?? 1) - 1; break;
        case 'K': {
          const line = row();
          if ((n ?? 0) === 0) line.length = Math.min(line.length, c);
          else if (n === 1) for (let k = 0; k <= c && k < line.length; k += 1) line[k] = ' ';
          else line.length = 0;
          break;
        }
        case 'J': rows.length = r + 1; row().length = Math.min(row().length, c); break;
        default: break;
      }
    } else {
      const line = row();
      while (line.length < c) line.push(' ');
      line[c] = ch;
      c += 1;
    }
  }
  return Array.from({ length: rows.length }, (_, k) => (rows[k] ?? []).join('').trimEnd());
}
