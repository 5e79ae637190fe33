/** Steps that run commands in a guest and check what they print: any command, ndctl's listing, a block device's size. */
import { CheckFailure, GuestCommandError } from '../../errors.js';
import type { Guest } from '../../guest/guest.js';
import { NDCTL_LIST, parseNdctlList, type NdctlTopology } from '../../guest/ndctl.js';
import { formatSize } from '../../scenario/units.js';
import { checkEqual, matchUnordered } from '../checks.js';
import type { StepKinds } from './kind.js';

export const guestCheckSteps: StepKinds<'run' | 'expect-ndctl' | 'expect-blockdev'> = {
  run: {
    title: (a) => `${a.guest}: \`${a.command}\` exits ${a.exit}${a.output ? ` printing /${a.output}/` : ''}`,
    async run(run, a, ctx) {
      const r = await run.guest(a.guest).exec(a.command, undefined, ctx.commandTimeoutMs);
      const output = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      checkEqual(`exit status of \`${a.command}\` in ${a.guest.name}`, a.exit, r.code, output);
      if (a.output && !new RegExp(a.output, 'm').test(`${r.stdout}\n${r.stderr}`)) {
        throw new CheckFailure(
          `output of \`${a.command}\` in ${a.guest.name} does not match /${a.output}/\n${output}`,
          a.output,
          `${r.stdout}\n${r.stderr}`,
        );
      }
    },
  },
  'expect-ndctl': {
    title: (a) => {
      const parts: string[] = [];
      if (a.dimms !== undefined) parts.push(`${a.dimms} dimm(s)`);
      if (a.regions !== undefined)
        parts.push(typeof a.regions === 'number' ? `${a.regions} region(s)` : `regions ${describeEach(a.regions)} (any order)`);
      if (a.namespaces !== undefined)
        parts.push(
          typeof a.namespaces === 'number' ? `${a.namespaces} namespace(s)` : `namespaces ${describeEach(a.namespaces)} (any order)`,
        );
      return `${a.guest}: ndctl lists ${parts.join(', ')}`;
    },
    async run(run, a, ctx) {
      const { topology, stdout } = await ndctl(run.guest(a.guest), ctx.commandTimeoutMs);
      // Compare only what the scenario asks about, so the diff shows just that.
      const expected: Record<string, unknown> = {};
      const actual: Record<string, unknown> = {};
      if (a.dimms !== undefined) {
        expected.dimms = a.dimms;
        actual.dimms = topology.dimms.length;
      }
      for (const key of ['regions', 'namespaces'] as const) {
        const want = a[key];
        if (want === undefined) continue;
        const have = topology[key] as unknown as Record<string, unknown>[];
        expected[key] = want;
        actual[key] = typeof want === 'number' ? have.length : matchUnordered(want, have);
      }
      checkEqual(`ndctl in ${a.guest.name}`, expected, actual, `ndctl list printed:\n${stdout}`);
    },
  },
  'expect-blockdev': {
    title: (a) => `${a.guest}: ${a.device} is ${formatSize(a.size)}`,
    async run(run, a, ctx) {
      const r = await run.guest(a.guest).exec(`blockdev --getsize64 ${a.device}`, undefined, ctx.commandTimeoutMs);
      if (r.code !== 0)
        throw new CheckFailure(`${a.device} in ${a.guest.name}: ${r.stderr.trim() || `blockdev exited ${r.code}`}`, a.size, null);
      checkEqual(`size of ${a.device} in ${a.guest.name}`, a.size, Number(r.stdout.trim()));
    },
  },
};

export async function ndctl(guest: Guest, timeoutMs: number): Promise<{ topology: NdctlTopology; stdout: string }> {
  const r = await guest.exec(NDCTL_LIST, undefined, timeoutMs);
  if (r.code !== 0)
    throw new GuestCommandError({
      why: `\`${NDCTL_LIST}\` failed in ${guest.opts.machine.name} with status ${r.code}`,
      evidence: [['stderr', r.stderr]],
    });
  return { topology: parseNdctlList(r.stdout), stdout: r.stdout };
}

function describeEach(items: Record<string, unknown>[]): string {
  return `[${items
    .map((i) =>
      Object.entries(i)
        .map(([k, v]) => (k === 'size' ? formatSize(v as number) : String(v)))
        .join(' '),
    )
    .join('; ')}]`;
}
