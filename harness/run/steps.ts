import type { z } from 'zod';
import { actions, actionNames, type ActionName, type Step } from '../scenario/schema.js';
import { formatSize } from '../scenario/units.js';
import { NDCTL_LIST, parseNdctlList } from '../guest/ndctl.js';
import type { ScenarioRun } from './scenario-run.js';
import { CheckFailure, checkEqual } from './check.js';

type Args<K extends ActionName> = z.output<(typeof actions)[K]>;

interface StepKind<K extends ActionName> {
  /** How the step is named in reports, from what it checks. */
  title(args: Args<K>): string;
  run(run: ScenarioRun, args: Args<K>): Promise<void>;
}

const kinds: { [K in ActionName]: StepKind<K> } = {
  boot: {
    title: (guests) => `boot ${guests.join(', ')}`,
    run: (run, guests) => run.boot(guests),
  },
  stop: {
    title: (guests) => `stop ${guests.join(', ')}`,
    run: (run, guests) => run.stop(guests),
  },
  run: {
    title: (a) => `${a.guest}: \`${a.command}\` exits ${a.exit}${a.stdout ? ` printing /${a.stdout}/` : ''}`,
    async run(run, a) {
      const r = await run.guest(a.guest).exec(a.command);
      const output = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      checkEqual(`exit status of \`${a.command}\` in ${a.guest}`, a.exit, r.code, output);
      if (a.stdout && !new RegExp(a.stdout, 'm').test(r.stdout)) {
        throw new CheckFailure(`output of \`${a.command}\` in ${a.guest} does not match /${a.stdout}/\n${output}`, a.stdout, r.stdout);
      }
    },
  },
  'expect-ndctl': {
    title: (a) => {
      const parts: string[] = [];
      if (a.dimms !== undefined) parts.push(`${a.dimms} dimm(s)`);
      if (a.regions !== undefined) parts.push(typeof a.regions === 'number' ? `${a.regions} region(s)` : `regions ${describeEach(a.regions)}`);
      if (a.namespaces !== undefined) parts.push(typeof a.namespaces === 'number' ? `${a.namespaces} namespace(s)` : `namespaces ${describeEach(a.namespaces)}`);
      return `${a.guest}: ndctl lists ${parts.join(', ') || 'its devices'}`;
    },
    async run(run, a) {
      const r = await run.guest(a.guest).exec(NDCTL_LIST);
      if (r.code !== 0) throw new Error(`\`${NDCTL_LIST}\` failed in ${a.guest} with status ${r.code}: ${r.stderr}`);
      const topology = parseNdctlList(r.stdout);
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
        // Entries beyond the expected ones are shown whole, so the diff says what is extra.
        actual[key] = typeof want === 'number' ? have.length : have.map((item, i) => (i < want.length ? pick(item, Object.keys(want[i]!)) : item));
      }
      checkEqual(`ndctl in ${a.guest}`, expected, actual, `ndctl list printed:\n${r.stdout}`);
    },
  },
  'expect-blockdev': {
    title: (a) => `${a.guest}: ${a.device} is ${formatSize(a.size)} bytes`,
    async run(run, a) {
      const r = await run.guest(a.guest).exec(`blockdev --getsize64 ${a.device}`);
      if (r.code !== 0) throw new CheckFailure(`${a.device} in ${a.guest}: ${r.stderr.trim() || `blockdev exited ${r.code}`}`, a.size, null);
      checkEqual(`size of ${a.device} in ${a.guest}`, a.size, Number(r.stdout.trim()));
    },
  },
};

function describeEach(items: Record<string, unknown>[]): string {
  return `[${items.map((i) => Object.entries(i).map(([k, v]) => (k === 'size' ? formatSize(v as number) : String(v))).join(' ')).join('; ')}]`;
}

function pick(item: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, item[k] ?? null]));
}

export function actionOf(step: Step): ActionName {
  return actionNames.find((a) => step[a] !== undefined)!;
}

export function stepTitle(step: Step): string {
  const action = actionOf(step);
  return step.name ?? (kinds[action].title as (a: unknown) => string)(step[action]);
}

export function runStep(run: ScenarioRun, step: Step): Promise<void> {
  const action = actionOf(step);
  return (kinds[action].run as (r: ScenarioRun, a: unknown) => Promise<void>)(run, step[action]);
}
