/**
 * QEMU's option syntax: sizes as its option parser takes them, and values inside its comma-separated
 * `key=value,...` lists.
 */

const UNITS = [
  ['T', 2 ** 40],
  ['G', 2 ** 30],
  ['M', 2 ** 20],
  ['K', 2 ** 10],
] as const;

/**
 * A size in the largest exact unit (`512M`, `128K`). A bare number means MiB to `-m` but bytes to
 * `size=`, so a suffix is always given when there is one.
 */
export function qemuSize(bytes: number): string {
  for (const [unit, factor] of UNITS) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** A value inside QEMU's comma-separated option syntax: a literal comma is written twice. */
export function optValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** `key=value` pairs joined as QEMU's option lists are; absent values are left out. */
export function optionList(head: string, pairs: [string, string | number | boolean | undefined][]): string {
  const parts = [head];
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    parts.push(`${key}=${typeof value === 'boolean' ? (value ? 'on' : 'off') : typeof value === 'string' ? optValue(value) : value}`);
  }
  return parts.join(',');
}
