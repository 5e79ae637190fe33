import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import semver from 'semver';
import { actions, actionNames, type ActionName, type Step } from '../scenario/schema.js';
import { formatSize } from '../scenario/units.js';
import { NDCTL_LIST, parseNdctlList, type NdctlTopology } from '../guest/ndctl.js';
import type { Guest } from '../guest/guest.js';
import { hotplugNvdimm, HmpError } from '../qemu/hotplug.js';
import { QmpError } from '../qemu/qmp.js';
import { hotplugTimeoutMs } from './environment.js';
import { fileSha256, type ScenarioRun } from './scenario-run.js';
import { CheckFailure, checkEqual } from './check.js';
import { ddBlocks, patternBytes, sha256 } from './pattern.js';

/**
 * By path: busybox's shell runs its own dd applet for a bare `dd`, and an image may put a dd that knows
 * O_DIRECT at /bin/dd instead (bullseye's busybox 1.30 does not).
 */
const DD = '/bin/dd';

type Args<K extends ActionName> = z.output<(typeof actions)[K]>;

/** Where a step reports what it is doing, for live progress. */
export type Progress = (event: string) => void;

interface StepKind<K extends ActionName> {
  /** How the step is named in reports, from what it checks. */
  title(args: Args<K>): string;
  run(run: ScenarioRun, args: Args<K>, progress: Progress): Promise<void>;
}

const kinds: { [K in ActionName]: StepKind<K> } = {
  boot: {
    title: (guests) => `boot ${guests.join(', ')}`,
    run: (run, guests, progress) => run.boot(guests, progress),
  },
  stop: {
    title: (guests) => `stop ${guests.join(', ')}`,
    run: (run, guests) => run.stop(guests),
  },
  run: {
    title: (a) => `${a.guest}: \`${a.command}\` exits ${a.exit}${a.output ? ` printing /${a.output}/` : ''}`,
    async run(run, a) {
      const r = await run.guest(a.guest).exec(a.command);
      const output = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      checkEqual(`exit status of \`${a.command}\` in ${a.guest}`, a.exit, r.code, output);
      if (a.output && !new RegExp(a.output, 'm').test(`${r.stdout}\n${r.stderr}`)) {
        throw new CheckFailure(
          `output of \`${a.command}\` in ${a.guest} does not match /${a.output}/\n${output}`,
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
        parts.push(typeof a.regions === 'number' ? `${a.regions} region(s)` : `regions ${describeEach(a.regions)}`);
      if (a.namespaces !== undefined)
        parts.push(typeof a.namespaces === 'number' ? `${a.namespaces} namespace(s)` : `namespaces ${describeEach(a.namespaces)}`);
      return `${a.guest}: ndctl lists ${parts.join(', ') || 'its devices'}`;
    },
    async run(run, a) {
      const { topology, stdout } = await ndctl(run.guest(a.guest));
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
      checkEqual(`ndctl in ${a.guest}`, expected, actual, `ndctl list printed:\n${stdout}`);
    },
  },
  'expect-blockdev': {
    title: (a) => `${a.guest}: ${a.device} is ${formatSize(a.size)} bytes`,
    async run(run, a) {
      const r = await run.guest(a.guest).exec(`blockdev --getsize64 ${a.device}`);
      if (r.code !== 0)
        throw new CheckFailure(`${a.device} in ${a.guest}: ${r.stderr.trim() || `blockdev exited ${r.code}`}`, a.size, null);
      checkEqual(`size of ${a.device} in ${a.guest}`, a.size, Number(r.stdout.trim()));
    },
  },
  write: {
    title: (a) =>
      `${a.guest}: write pattern "${a.pattern}" to ${a.device} at ${formatSize(a.offset)} (${formatSize(a.length)} bytes, O_DIRECT)`,
    async run(run, a) {
      const { bs, start, count } = ddBlocks(a.offset, a.length);
      const r = await run
        .guest(a.guest)
        .exec(
          `${DD} of=${a.device} bs=${bs} seek=${start} count=${count} iflag=fullblock oflag=direct 2>&1`,
          patternBytes(a.pattern, a.length),
        );
      if (r.code !== 0) throw new Error(`writing to ${a.device} in ${a.guest} failed (dd status ${r.code}): ${r.stdout.trim()}`);
    },
  },
  'expect-data': {
    title: (a) =>
      `${a.guest}: ${a.device} at ${formatSize(a.offset)} (${formatSize(a.length)} bytes) ${a.match ? 'holds' : 'does not hold'} pattern "${a.pattern}"`,
    async run(run, a) {
      const { bs, start, count } = ddBlocks(a.offset, a.length);
      // Read into the guest's RAM: the byte count read tells a short device from different data.
      const r = await run
        .guest(a.guest)
        .exec(
          `[ -e ${a.device} ] || { echo "${a.device} does not exist" >&2; exit 3; }; f=$(mktemp) && ` +
            `${DD} if=${a.device} of=$f bs=${bs} skip=${start} count=${count} iflag=direct 2>/dev/null; ` +
            `wc -c < $f; sha256sum < $f; od -An -tx1 -N16 $f; rm -f $f`,
        );
      if (r.code !== 0) throw new Error(`reading ${a.device} in ${a.guest} failed: ${r.stderr.trim()}`);
      const [read, hash, head] = r.stdout.split('\n');
      const found = hash!.split(' ')[0] === sha256(patternBytes(a.pattern, a.length));
      const seen = `read ${read!.trim()} bytes starting with ${head!.trim() || '(nothing)'}`;
      if (found !== a.match) throw patternMismatch(`${a.device} in ${a.guest} at ${a.offset}`, a.pattern, a.match, found, seen);
    },
  },
  'expect-file': {
    title: (a) => {
      const parts: string[] = [];
      if (a.size !== undefined) parts.push(`is ${formatSize(a.size)} bytes`);
      if (a.unchanged) parts.push('is unchanged byte for byte');
      if (a.pattern !== undefined) parts.push(`${a.match ? 'holds' : 'does not hold'} pattern "${a.pattern}" at ${formatSize(a.offset)}`);
      return `host file ${a.file} ${parts.join(', ')}`;
    },
    async run(run, a) {
      const path = run.filePath(a.file);
      const handle = await open(path, 'r');
      try {
        if (a.size !== undefined) checkEqual(`size of host file ${a.file}`, a.size, (await handle.stat()).size);
        if (a.pattern !== undefined) {
          const { buffer, bytesRead } = await handle.read(Buffer.alloc(a.length!), 0, a.length!, a.offset);
          const found = bytesRead === a.length && buffer.equals(patternBytes(a.pattern, a.length!));
          if (found !== a.match) {
            const seen = `found ${bytesRead} bytes starting with ${buffer.subarray(0, 16).toString('hex')}`;
            throw patternMismatch(`host file ${a.file} at ${a.offset}`, a.pattern, a.match, found, seen);
          }
        }
      } finally {
        await handle.close();
      }
      if (a.unchanged) checkEqual(`SHA-256 of host file ${a.file}`, run.initialChecksums[a.file], await fileSha256(path));
    },
  },
  'expect-start-failure': {
    title: (a) => `QEMU refuses to start ${a.guest}${typeof a.message === 'string' ? ` with /${a.message}/` : ''}`,
    async run(run, a) {
      const message = messageFor(a.message, run.env.qemu.version);
      const exit = await run.startExpectingRefusal(a.guest);
      checkEqual(`QEMU's exit status for ${a.guest}`, a.status, exit.code ?? exit.signal, `stderr: ${exit.stderr}`);
      if (!message.test(exit.stderr)) {
        throw new CheckFailure(
          `QEMU ${run.env.qemu.version} refused ${a.guest} with another message than /${message.source}/:\n${exit.stderr}`,
          message.source,
          exit.stderr,
        );
      }
    },
  },
  hotplug: {
    title: (a) =>
      `${a.guest}: hot-plug ${a.id} (${a.backend.size === undefined ? `file ${a.backend.file}` : formatSize(a.backend.size)}) via ${a.via.toUpperCase()}` +
      (a.error ? ', refused' : ''),
    async run(run, a) {
      const guest = run.guest(a.guest);
      const before = (await ndctl(guest)).topology.dimms.length;
      const spec = {
        id: a.id,
        path: run.filePath(a.backend.file),
        size: a.backend.size ?? run.fileSizes[a.backend.file]!,
        share: a.backend.share,
        labelSize: a['label-size'],
      };
      const expected = a.error === undefined ? undefined : messageFor(a.error, run.env.qemu.version);
      try {
        await hotplugNvdimm(guest.qmp!, run.env.qemu.version, spec, a.via);
      } catch (e) {
        if (!expected || !(e instanceof QmpError || e instanceof HmpError)) throw e;
        const said = e instanceof QmpError ? e.desc : e.reply;
        if (!expected.test(said))
          throw new CheckFailure(
            `QEMU refused the hotplug of ${a.id} with another message than /${expected.source}/: ${said}`,
            expected.source,
            said,
          );
        return;
      }
      if (expected)
        throw new CheckFailure(
          `QEMU accepted the hotplug of ${a.id}; expected a refusal matching /${expected.source}/`,
          expected.source,
          'accepted',
        );
      // The guest learns of the device through an ACPI notification: poll for it rather than sleep.
      const timeout = hotplugTimeoutMs(run.env);
      const deadline = Date.now() + timeout;
      for (;;) {
        const { topology, stdout } = await ndctl(guest);
        if (topology.dimms.length > before) return;
        if (Date.now() > deadline)
          throw new CheckFailure(
            `${a.guest} still lists ${before} NVDIMM(s) ${timeout / 1000} s after the hotplug of ${a.id}:\n${stdout}`,
            before + 1,
            topology.dimms.length,
          );
        await sleep(100);
      }
    },
  },
  'expect-memory-devices': {
    title: (a) =>
      `${a.guest}: query-memory-devices lists ${a.nvdimms.map((n) => `${n.id}${n.hotplugged ? ' (hotplugged)' : n.hotplugged === false ? ' (cold-plugged)' : ''}`).join(', ') || 'no NVDIMM'}`,
    async run(run, a) {
      const devices = await run.guest(a.guest).qmp!.execute<{ type: string; data: Record<string, unknown> }[]>('query-memory-devices');
      const nvdimms = devices.filter((d) => d.type === 'nvdimm').map((d) => d.data);
      const actual = nvdimms.map((d, i) => (i < a.nvdimms.length ? pick(d, Object.keys(a.nvdimms[i]!)) : d));
      checkEqual(`NVDIMMs in query-memory-devices of ${a.guest}`, a.nvdimms, actual);
    },
  },
  reboot: {
    title: (g) => `reboot ${g} from inside`,
    run: (run, g) => run.reboot(g),
  },
  restart: {
    title: (g) => `restart ${g}'s QEMU`,
    run: (run, g, progress) => run.restart(g, progress),
  },
};

/** A pattern found where it should not be, or missing where it should be; `seen` says what was there. */
function patternMismatch(where: string, pattern: string, match: boolean, found: boolean, seen: string): CheckFailure {
  return new CheckFailure(
    `${where}: expected ${match ? '' : 'anything but '}pattern "${pattern}", ${seen}`,
    match ? `pattern "${pattern}"` : `not pattern "${pattern}"`,
    found ? `pattern "${pattern}"` : seen,
  );
}

async function ndctl(guest: Guest): Promise<{ topology: NdctlTopology; stdout: string }> {
  const r = await guest.exec(NDCTL_LIST);
  if (r.code !== 0) throw new Error(`\`${NDCTL_LIST}\` failed in ${guest.opts.name} with status ${r.code}: ${r.stderr}`);
  return { topology: parseNdctlList(r.stdout), stdout: r.stdout };
}

/** The expected message for this QEMU version: no entry for it is a scenario gap, not a pass. */
function messageFor(message: string | { qemu: string; message: string }[], version: string): RegExp {
  if (typeof message === 'string') return new RegExp(message);
  const entry = message.find((m) => semver.satisfies(version, m.qemu));
  if (!entry)
    throw new Error(`the scenario gives no expected message for QEMU ${version} (ranges: ${message.map((m) => m.qemu).join(', ')})`);
  return new RegExp(entry.message);
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

/**
 * The kernel numbers regions in an order of its own, not the order of the -device options, so expected
 * entries match actual ones in any order. Returns the actual entries, each projected on the keys of the
 * expected entry it matched and in that entry's place, so equal means matched; unmatched ones follow whole.
 */
function matchUnordered(want: Record<string, unknown>[], have: Record<string, unknown>[]): Record<string, unknown>[] {
  const unused = [...have];
  const result: (Record<string, unknown> | undefined)[] = want.map((w) => {
    const i = unused.findIndex((h) => Object.entries(w).every(([k, v]) => h[k] === v));
    return i >= 0 ? pick(unused.splice(i, 1)[0]!, Object.keys(w)) : undefined;
  });
  // Pair each unmatched expectation with an unmatched actual entry, so the diff shows the difference.
  const filled = result.map((r, i) => r ?? (unused.length ? pick(unused.shift()!, Object.keys(want[i]!)) : {}));
  return [...filled, ...unused];
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

export function runStep(run: ScenarioRun, step: Step, progress: Progress = () => {}): Promise<void> {
  const action = actionOf(step);
  return (kinds[action].run as (r: ScenarioRun, a: unknown, p: Progress) => Promise<void>)(run, step[action], progress);
}
