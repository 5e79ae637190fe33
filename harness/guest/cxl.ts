/** `cxl list` output: a JSON array, or nothing at all when there is nothing of the kind. */
export type CxlEntry = Record<string, unknown>;

export function parseCxlList(stdout: string): CxlEntry[] {
  const text = stdout.trim();
  if (text === '') return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as CxlEntry[]) : [parsed as CxlEntry];
}
