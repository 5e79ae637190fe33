/** How steps compare what they expected with what they saw, and say so when it differs. */
import { CheckFailure } from '../errors.js';
import { versionIn } from '../qemu/versions.js';

export function checkEqual(what: string, expected: unknown, actual: unknown, detail = ''): void {
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}${detail ? `\n${detail}` : ''}`, expected, actual);
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A pattern found where it should not be, or missing where it should be; `seen` says what was there. */
export function patternMismatch(where: string, pattern: string, match: boolean, found: boolean, seen: string): CheckFailure {
  return new CheckFailure(
    `${where}: expected ${match ? '' : 'anything but '}pattern "${pattern}", ${seen}`,
    match ? `pattern "${pattern}"` : `not pattern "${pattern}"`,
    found ? `pattern "${pattern}"` : seen,
  );
}

/** QEMU's words differ between versions: the expected message for this one. No entry for it is a scenario gap, not a pass. */
export function messageFor(message: string | { qemu: string; message: string }[], version: string): RegExp {
  if (typeof message === 'string') return new RegExp(message);
  const entry = message.find((m) => versionIn(version, m.qemu));
  if (!entry)
    throw new CheckFailure(
      `the scenario gives no expected message for QEMU ${version} (ranges: ${message.map((m) => m.qemu).join(', ')})`,
      message.map((m) => m.qemu),
      version,
    );
  return new RegExp(entry.message);
}

/**
 * A refusal the scenario expects of QEMU: `refusal` is QEMU's words, or undefined if it went ahead, which
 * `accepted` describes (and `value`, if QEMU answered something, shows).
 */
export function checkRefusal(
  expected: RegExp,
  refusal: string | undefined,
  what: { accepted: string; refused: string; value?: unknown },
): void {
  if (refusal === undefined)
    throw new CheckFailure(`${what.accepted}; expected a refusal matching /${expected.source}/`, expected.source, what.value ?? 'accepted');
  if (!expected.test(refusal))
    throw new CheckFailure(`${what.refused} with another message than /${expected.source}/: ${refusal}`, expected.source, refusal);
}

/**
 * The kernel numbers regions in an order of its own, not the order of the -device options, so expected
 * entries match actual ones in any order. Returns the actual entries, each projected on the keys of the
 * expected entry it matched and in that entry's place, so equal means matched; unmatched ones follow whole.
 */
export function matchUnordered(want: Record<string, unknown>[], have: Record<string, unknown>[]): (Record<string, unknown> | null)[] {
  const unused = [...have];
  const result: (Record<string, unknown> | undefined)[] = want.map((w) => {
    const i = unused.findIndex((h) => Object.entries(w).every(([k, v]) => h[k] === v));
    return i >= 0 ? pick(unused.splice(i, 1)[0]!, Object.keys(w)) : undefined;
  });
  // Pair each unmatched expectation with an unmatched actual entry, so the diff shows the difference; with
  // none left, null: never equal to an expectation, not even an empty one ({} means "any entry").
  const filled = result.map((r, i) => r ?? (unused.length ? pick(unused.shift()!, Object.keys(want[i]!)) : null));
  return [...filled, ...unused];
}

export function pick(item: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, item[k] ?? null]));
}

type VersionedMessage = string | { qemu: string; message: string }[];

/**
 * Expected messages changed for `mutate`: the one for this version made unmatchable, and, where the
 * scenario gives several, each other version's words put in its place (the versions must differ).
 */
export function messageMutants(message: VersionedMessage, version: string): { label: string; message: VersionedMessage }[] {
  if (typeof message === 'string') return [{ label: 'message made unmatchable', message: `${message}${NEVER_MATCHES}` }];
  const current = message.findIndex((m) => versionIn(version, m.qemu));
  if (current < 0) return [];
  const replace = (text: string) => message.map((m, i) => (i === current ? { ...m, message: text } : m));
  return [
    { label: 'message made unmatchable', message: replace(`${message[current]!.message}${NEVER_MATCHES}`) },
    ...message
      .filter((m, i) => i !== current && m.message !== message[current]!.message)
      .map((m) => ({ label: `message of QEMU ${m.qemu} expected`, message: replace(m.message) })),
  ];
}

/** What a mutant adds to an expected size: a page, which no QEMU or kernel rounding absorbs silently. */
export const SIZE_NUDGE = 4096;

/** Appended to a regular expression, makes it match nothing: a mutant of an expected output or message. */
export const NEVER_MATCHES = '(?!)';
