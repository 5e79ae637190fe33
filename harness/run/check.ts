/**
 * A check that did not hold. `expected` and `actual` are kept as values so that vitest's reporters print
 * a diff between them; the message says the same in words.
 */
export class CheckFailure extends Error {
  readonly showDiff = true;
  constructor(
    message: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

export function checkEqual(what: string, expected: unknown, actual: unknown, detail = ''): void {
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}${detail ? `\n${detail}` : ''}`, expected, actual);
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
