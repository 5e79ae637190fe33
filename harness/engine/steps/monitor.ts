/** Steps that ask QEMU itself: one command on a guest's monitor (QMP or the human monitor), or what it printed on stderr. */
import { CheckFailure } from '../../errors.js';
import { QmpError } from '../../qemu/qmp.js';
import { checkRefusal, messageFor, messageMutants, NEVER_MATCHES } from '../checks.js';
import { mutant, type Mutant, type StepKinds } from './kind.js';

type Json = unknown;

/** What QMP answered: its return value, or its refusal in its own words. */
type QmpSeen = { return: Json } | { error: string };

export const monitorSteps: StepKinds<'qmp' | 'hmp' | 'expect-qemu-stderr'> = {
  'expect-qemu-stderr': {
    title: (a) =>
      `${a.guest}: QEMU's stderr ${a.match ? 'says' : 'does not say'} /${typeof a.message === 'string' ? a.message : 'versioned message'}/`,
    observe: async (run, a): Promise<string> => run.guest(a.guest).process.stderr,
    show: (stderr: string) => stderr,
    judge(a, stderr: string, qemuVersion) {
      const expected = new RegExp(messageFor(a.message, qemuVersion).source, 'm');
      if (expected.test(stderr) !== a.match)
        throw new CheckFailure(
          `QEMU of ${a.guest.name} ${a.match ? 'did not print' : 'printed'} /${expected.source}/ on stderr; it printed:\n${stderr || '(nothing)'}`,
          a.match ? expected.source : `not ${expected.source}`,
          stderr,
        );
    },
    mutants: (a, qemuVersion) => [
      mutant('match inverted', a, { match: !a.match }),
      ...(a.match
        ? messageMutants(a.message, qemuVersion).map((m) => mutant<'expect-qemu-stderr'>(m.label, a, { message: m.message }))
        : []),
    ],
  },
  qmp: {
    title: (a) =>
      `${a.guest}: QMP ${a.execute}${a.arguments ? ` ${JSON.stringify(a.arguments)}` : ''} ${a.error !== undefined ? 'is refused' : `returns ${clip(JSON.stringify(a.return))}`}`,
    async observe(run, a): Promise<QmpSeen> {
      try {
        return { return: await run.guest(a.guest).qmp!.execute(a.execute, a.arguments) };
      } catch (e) {
        if (e instanceof QmpError) return { error: e.desc };
        throw e;
      }
    },
    show: (seen: QmpSeen) => ('error' in seen ? `error: ${seen.error}` : JSON.stringify(seen.return, null, 2)),
    judge(a, seen: QmpSeen, qemuVersion) {
      const what = `QMP ${a.execute} on ${a.guest.name}`;
      if (a.error !== undefined)
        return checkRefusal(messageFor(a.error, qemuVersion), 'error' in seen ? seen.error : undefined, {
          accepted: `${what} returned ${JSON.stringify('return' in seen ? seen.return : undefined)}`,
          refused: `${what} was refused`,
          value: 'return' in seen ? seen.return : undefined,
        });
      if ('error' in seen) throw new CheckFailure(`${what} was refused: ${seen.error}`, a.return, seen.error);
      const mismatch = firstMismatch(a.return, seen.return, '');
      if (mismatch !== undefined)
        throw new CheckFailure(
          `${what}: expected ${mismatch.path || 'the return value'} to be ${JSON.stringify(mismatch.want)}, got ${JSON.stringify(mismatch.have)}\nQMP returned: ${JSON.stringify(seen.return)}`,
          a.return,
          seen.return,
        );
    },
    mutants(a, qemuVersion) {
      if (a.error !== undefined)
        return [
          mutant('acceptance expected', a, { error: undefined, return: {} }),
          ...messageMutants(a.error, qemuVersion).map((m) => mutant<'qmp'>(m.label, a, { error: m.message })),
        ];
      const out: Mutant<'qmp'>[] = [mutant('refusal expected', a, { error: NEVER_MATCHES, return: undefined })];
      for (const [path, changed] of leafChanges(a.return, '')) out.push(mutant(`return${path} changed`, a, { return: changed as never }));
      return out;
    },
  },
  hmp: {
    title: (a) => `${a.guest}: HMP \`${a.command}\` prints /${typeof a.output === 'string' ? a.output : 'versioned message'}/`,
    async observe(run, a): Promise<string> {
      // The monitor ends lines with \r\n; scenarios match text.
      return (await run.guest(a.guest).qmp!.hmp(a.command)).replace(/\r\n/g, '\n').trim();
    },
    show: (reply: string) => reply,
    judge(a, reply: string, qemuVersion) {
      const expected = messageFor(a.output, qemuVersion);
      if (!new RegExp(expected.source, 'm').test(reply))
        throw new CheckFailure(
          `HMP \`${a.command}\` on ${a.guest.name} printed something else than /${expected.source}/:\n${reply}`,
          expected.source,
          reply,
        );
    },
    mutants: (a, qemuVersion) => messageMutants(a.output, qemuVersion).map((m) => mutant<'hmp'>(m.label, a, { output: m.message })),
  },
};

/** Long expected values are cut in titles; the failure report shows them whole. */
function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Where what QMP returned differs from what the scenario expects: objects on the keys the scenario gives
 * (QEMU adds fields between versions), lists entry by entry and of the same length, other values exactly.
 */
export function firstMismatch(want: Json, have: Json, path: string): { path: string; want: Json; have: Json } | undefined {
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return { path, want, have };
    for (let i = 0; i < want.length; i++) {
      const m = firstMismatch(want[i], have[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return { path, want, have };
    for (const [k, v] of Object.entries(want)) {
      const m = firstMismatch(v, (have as Record<string, Json>)[k], `${path}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  return want === have ? undefined : { path, want, have };
}

/** Each value in an expected return changed so that it cannot match, with where it is; lists also one entry longer. */
function leafChanges(value: Json, path: string): [string, Json][] {
  const changed = (v: Json): Json =>
    typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : typeof v === 'string' ? `${v}x` : 'mutant';
  if (Array.isArray(value))
    return [
      [`${path} one entry longer`, [...value, null]],
      ...value.flatMap((v, i) =>
        leafChanges(v, `${path}[${i}]`).map(([p, c]): [string, Json] => [p, value.map((e, j) => (j === i ? c : e))]),
      ),
    ];
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) =>
      leafChanges(v, `${path}.${k}`).map(([p, c]): [string, Json] => [p, { ...value, [k]: c }]),
    );
  return [[path, changed(value)]];
}
