/**
 * Sizes as scenarios write them: a number of bytes, or a number with a binary unit (`128K`, `1G`, `1.5M`,
 * `512MiB`; `512MB` is refused as ambiguous), optionally a sum or difference of such terms (`1G - 128K`), which expectations use to say
 * "the backend size minus the label area".
 */
const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new Error(`a size must be a whole number of bytes, not ${input}`);
    return input;
  }
  const terms = input.trim().split(/\s*([+-])\s*/);
  let total = 0;
  let sign = 1;
  for (const [i, term] of terms.entries()) {
    if (i % 2 === 1) {
      sign = term === '-' ? -1 : 1;
      continue;
    }
    total += sign * parseTerm(term, input);
  }
  if (total < 0) throw new Error(`size "${input}" is negative`);
  return total;
}

function parseTerm(term: string, whole: string): number {
  const decimal = /^(\d+(?:\.\d+)?)\s*([KMGT])B$/i.exec(term);
  if (decimal) {
    // "MB" means 10^6 to many people and 2^20 to others: QEMU's units are binary, so say which is meant.
    const [, n, u] = decimal;
    throw new Error(`"${whole}": ${u}B is ambiguous; sizes are binary: use ${n}${u!.toUpperCase()} or ${n}${u!.toUpperCase()}iB`);
  }
  const m = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:iB)?|(B))?$/i.exec(term);
  if (!m) {
    throw new Error(`"${whole}" is not a size: expected bytes or a number with a unit K, M, G or T (e.g. 512M, 1G, 128K, 1G - 128K)`);
  }
  const bytes = Number(m[1]) * UNITS[(m[2] ?? '').toUpperCase()]!;
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${whole}" is not a whole number of bytes`);
  return bytes;
}

/** `1073610752` -> `1073610752 bytes (1023.875 MiB)`: the exact count, then in the largest binary unit rounded to 3 decimals. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= factor) return `${bytes} bytes (${+(bytes / factor).toFixed(3)} ${unit})`;
  }
  return `${bytes} bytes`;
}
