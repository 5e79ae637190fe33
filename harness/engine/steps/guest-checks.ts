/** Steps that run commands in a guest and check what they print: any command, ndctl's listing, a block device's size. */
import { CheckFailure, GuestCommandError } from '../../errors.js';
import type { Guest } from '../../guest/guest.js';
import type { ExecResult } from '../../guest/ssh.js';
import { parseCxlList } from '../../guest/cxl.js';
import { NDCTL_LIST, parseNdctlList, type NdctlTopology } from '../../guest/ndctl.js';
import { formatSize } from '../../scenario/units.js';
import { checkEqual, matchUnordered, NEVER_MATCHES, SIZE_NUDGE } from '../checks.js';
import { blockDevice, describeDevice } from './block-device.js';
import { mutant, type Mutant, type StepKinds } from './kind.js';
import type { PlannedArgs } from '../../scenario/plan.js';

const NAMESPACE_MODES = ['raw', 'fsdax', 'devdax', 'sector'] as const;

type Entry = Record<string, unknown>;

export const guestCheckSteps: StepKinds<'run' | 'expect-ndctl' | 'expect-blockdev' | 'expect-cxl'> = {
  run: {
    title: (a) => `${a.guest}: \`${a.command}\` exits ${a.exit}${a.output ? ` printing /${a.output}/` : ''}`,
    observe: (run, a, ctx): Promise<ExecResult> => run.guest(a.guest).exec(a.command, undefined, ctx.commandTimeoutMs),
    judge(a, r: ExecResult) {
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
    show: (r: ExecResult) => `exit ${r.code}\n${r.stdout}${r.stderr ? `\nstderr:\n${r.stderr}` : ''}`,
    mutants: (a) => [
      mutant('exit changed', a, { exit: a.exit === 0 ? 1 : 0 }),
      ...(a.output ? [mutant('output made unmatchable', a, { output: a.output + NEVER_MATCHES })] : []),
    ],
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
    // --verbose only when a region's NUMA node is expected: it also makes ndctl ask each DIMM for its health.
    observe: (run, a, ctx) =>
      ndctl(run.guest(a.guest), ctx.commandTimeoutMs, Array.isArray(a.regions) && a.regions.some((r) => r.numa_node !== undefined)),
    show: ({ stdout }: { stdout: string }) => stdout,
    judge(a, { topology, stdout }: { topology: NdctlTopology; stdout: string }) {
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
        const have = topology[key] as unknown as Entry[];
        expected[key] = want;
        actual[key] = typeof want === 'number' ? have.length : matchUnordered(want, have);
      }
      checkEqual(`ndctl in ${a.guest.name}`, expected, actual, `ndctl list printed:\n${stdout}`);
    },
    mutants(a) {
      const out: Mutant<'expect-ndctl'>[] = [];
      if (a.dimms !== undefined) out.push(mutant('dimms+1', a, { dimms: a.dimms + 1 }));
      for (const key of ['regions', 'namespaces'] as const) {
        const want = a[key];
        if (want === undefined) continue;
        if (typeof want === 'number') {
          out.push(mutant(`${key}+1`, a, { [key]: want + 1 }));
          continue;
        }
        out.push(...entryMutants<'expect-ndctl'>(a, key, want));
      }
      return out;
    },
  },
  'expect-blockdev': {
    title: (a) => `${a.guest}: ${describeDevice(a.device)} is ${formatSize(a.size)}`,
    async observe(run, a, ctx): Promise<ExecResult & { path: string }> {
      const path = await blockDevice(run.guest(a.guest), a.device, ctx.commandTimeoutMs);
      return { path, ...(await run.guest(a.guest).exec(`blockdev --getsize64 ${path}`, undefined, ctx.commandTimeoutMs)) };
    },
    judge(a, r: ExecResult & { path: string }) {
      if (r.code !== 0)
        throw new CheckFailure(`${r.path} in ${a.guest.name}: ${r.stderr.trim() || `blockdev exited ${r.code}`}`, a.size, null);
      checkEqual(`size of ${r.path} in ${a.guest.name}`, a.size, Number(r.stdout.trim()));
    },
    show: (r: ExecResult & { path: string }) => `${r.path}: ${r.stdout.trim()} bytes`,
    mutants: (a) => [mutant(`size+${SIZE_NUDGE}`, a, { size: a.size + SIZE_NUDGE })],
  },
  'expect-cxl': {
    title: (a) =>
      `${a.guest}: cxl lists ${CXL_KINDS.filter(([key]) => a[key] !== undefined)
        .map(([key]) => `${key} ${describeEach(a[key]!)}`)
        .join(', ')} (any order)`,
    async observe(run, a, ctx): Promise<Record<string, { entries: Entry[]; stdout: string }>> {
      const seen: Record<string, { entries: Entry[]; stdout: string }> = {};
      for (const [key, flag] of CXL_KINDS) {
        if (a[key] === undefined) continue;
        const command = `cxl list ${flag}`;
        const r = await run.guest(a.guest).exec(command, undefined, ctx.commandTimeoutMs);
        if (r.code !== 0)
          throw new GuestCommandError({
            why: `\`${command}\` failed in ${a.guest.name} with status ${r.code}`,
            evidence: [['stderr', r.stderr]],
          });
        seen[key] = { entries: parseCxlList(r.stdout), stdout: r.stdout };
      }
      return seen;
    },
    show: (seen: Record<string, { entries: Entry[]; stdout: string }>) =>
      Object.entries(seen)
        .map(([key, { stdout }]) => `${key}:\n${stdout.trim() || '(none)'}`)
        .join('\n'),
    judge(a, seen: Record<string, { entries: Entry[]; stdout: string }>) {
      for (const [key, flag] of CXL_KINDS) {
        const want = a[key];
        if (want === undefined) continue;
        const { entries, stdout } = seen[key]!;
        checkEqual(
          `cxl ${key} in ${a.guest.name}`,
          want,
          matchUnordered(want, entries),
          `cxl list ${flag} printed:\n${stdout || '(nothing)'}`,
        );
      }
    },
    mutants(a) {
      return CXL_KINDS.flatMap(([key]) => {
        const want = a[key];
        return want === undefined ? [] : entryMutants<'expect-cxl'>(a, key, want);
      });
    },
  },
};

/** What expect-cxl compares, and the `cxl list` flag that lists it. */
const CXL_KINDS = [
  ['memdevs', '-M'],
  ['regions', '-R'],
] as const;

/**
 * A list of entries matched in any order (ndctl's regions, cxl's memdevs), changed: one entry more, which
 * matches any item and so fails only if every listed item was already matched; and each field changed.
 */
function entryMutants<K extends 'expect-ndctl' | 'expect-cxl'>(a: PlannedArgs<K>, key: string, want: Entry[]): Mutant<K>[] {
  const out = [mutant<K>(`${key}: one more`, a, { [key]: [...want, {}] } as Partial<PlannedArgs<K>>)];
  want.forEach((entry, i) => {
    for (const [field, value] of Object.entries(entry)) {
      const changed = changedValue(field, value);
      if (changed === undefined) continue;
      const list = want.map((e, j) => (j === i ? { ...e, [field]: changed } : e));
      out.push(mutant<K>(`${key}.${i}.${field} changed`, a, { [key]: list } as Partial<PlannedArgs<K>>));
    }
  });
  return out;
}

/** An expected ndctl or cxl field changed so that it cannot match what it matched. */
function changedValue(field: string, value: unknown): unknown {
  if (/size$/.test(field)) return (value as number) + SIZE_NUDGE;
  if (field === 'type') return value === 'pmem' ? 'blk' : 'pmem';
  if (field === 'numa_node') return (value as number) === 0 ? 1 : 0;
  if (field === 'mode')
    return NAMESPACE_MODES[(NAMESPACE_MODES.indexOf(value as (typeof NAMESPACE_MODES)[number]) + 1) % NAMESPACE_MODES.length];
  if (typeof value === 'string') return `${value}x`;
  return undefined;
}

export async function ndctl(guest: Guest, timeoutMs: number, verbose = false): Promise<{ topology: NdctlTopology; stdout: string }> {
  const command = verbose ? `${NDCTL_LIST} --verbose` : NDCTL_LIST;
  const r = await guest.exec(command, undefined, timeoutMs);
  if (r.code !== 0)
    throw new GuestCommandError({
      why: `\`${command}\` failed in ${guest.opts.machine.name} with status ${r.code}`,
      evidence: [['stderr', r.stderr]],
    });
  return { topology: parseNdctlList(r.stdout), stdout: r.stdout };
}

function describeEach(items: Entry[]): string {
  return `[${items
    .map((i) =>
      Object.entries(i)
        .map(([k, v]) => (k === 'size' ? formatSize(v as number) : String(v)))
        .join(' '),
    )
    .join('; ')}]`;
}
