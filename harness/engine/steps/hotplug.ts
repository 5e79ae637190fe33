/** Steps that hot-plug devices and ask QEMU which memory devices a guest has. */
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckFailure } from '../../errors.js';
import { hotplug, HmpError } from '../../qemu/hotplug.js';
import { QmpError } from '../../qemu/qmp.js';
import { formatSize } from '../../scenario/units.js';
import { checkEqual, checkRefusal, messageFor, messageMutants, NEVER_MATCHES, pick, SIZE_NUDGE } from '../checks.js';
import { hotplugTimeoutMs } from '../environment.js';
import type { NdctlTopology } from '../../guest/ndctl.js';
import { ndctl } from './guest-checks.js';
import { mutant, type Args, type Mutant, type StepKinds } from './kind.js';

/** How often the guest's NVDIMMs are listed while waiting for a hot-plugged one; it appears in about 0.2 s under TCG. */
const HOTPLUG_POLL_MS = 100;

/** What a hotplug did: QEMU's refusal in its own words, or how many devices the guest listed before and after. */
type HotplugSeen = { refused: string } | { before: number; after: number; listing: string; waitedMs: number };

type MemoryDevice = Record<string, unknown>;

function describeBackend(b: Args<'hotplug'>['backend']): string {
  if (b.file === undefined) return b.ram !== undefined ? `${formatSize(b.ram)} of RAM` : `${formatSize(b.memfd!)} of memfd`;
  return b.size === undefined ? `file ${b.file}` : formatSize(b.size);
}

/** The scenario's key for each device kind, and the type QMP query-memory-devices gives it. */
const KINDS = [
  ['nvdimms', 'nvdimm'],
  ['virtio-pmem', 'virtio-pmem'],
] as const;

export const hotplugSteps: StepKinds<'hotplug' | 'expect-memory-devices'> = {
  hotplug: {
    title: (a) =>
      `${a.guest}: hot-plug ${a.kind === 'nvdimm' ? '' : `${a.kind} `}${a.id} (${describeBackend(a.backend)}) via ${a.via.toUpperCase()}` +
      (a.error ? ', refused' : ''),
    async observe(run, a, ctx): Promise<HotplugSeen> {
      const guest = run.guest(a.guest);
      // An NVDIMM appears as one more nmem; a virtio-pmem device has none, only its region.
      const count = (t: NdctlTopology) => (a.device.kind === 'nvdimm' ? t.dimms : t.regions).length;
      const before = count((await ndctl(guest, ctx.commandTimeoutMs)).topology);
      try {
        await hotplug(guest.qmp!, run.env.qemu.version, a.device, a.via);
      } catch (e) {
        if (e instanceof QmpError) return { refused: e.desc };
        if (e instanceof HmpError) return { refused: e.reply };
        throw e;
      }
      // The guest learns of the device through an ACPI notification: poll for it rather than sleep.
      const timeout = hotplugTimeoutMs(run.env);
      const started = Date.now();
      for (;;) {
        const { topology, stdout } = await ndctl(guest, ctx.commandTimeoutMs);
        const waitedMs = Date.now() - started;
        if (count(topology) > before || waitedMs > timeout) return { before, after: count(topology), listing: stdout, waitedMs };
        await sleep(HOTPLUG_POLL_MS);
      }
    },
    judge(a, seen: HotplugSeen, qemuVersion) {
      const id = a.device.id;
      if (a.error !== undefined)
        return checkRefusal(messageFor(a.error, qemuVersion), 'refused' in seen ? seen.refused : undefined, {
          accepted: `QEMU accepted the hotplug of ${id}`,
          refused: `QEMU refused the hotplug of ${id}`,
        });
      if ('refused' in seen) throw new CheckFailure(`QEMU refused the hotplug of ${id}: ${seen.refused}`, 'accepted', seen.refused);
      if (seen.after <= seen.before)
        throw new CheckFailure(
          `${a.guest.name} still lists ${seen.before} ${a.device.kind === 'nvdimm' ? 'NVDIMM(s)' : 'region(s)'} ${(seen.waitedMs / 1000).toFixed(1)} s after the hotplug of ${id}:\n${seen.listing}`,
          seen.before + 1,
          seen.after,
        );
    },
    mutants: (a, qemuVersion) =>
      a.error === undefined
        ? [mutant('refusal expected', a, { error: NEVER_MATCHES })]
        : [
            mutant('acceptance expected', a, { error: undefined }),
            ...messageMutants(a.error, qemuVersion).map((m) => mutant<'hotplug'>(m.label, a, { error: m.message })),
          ],
  },
  'expect-memory-devices': {
    title: (a) =>
      `${a.guest}: query-memory-devices lists ${KINDS.filter(([key]) => a[key] !== undefined)
        .map(
          ([key]) =>
            `${key} [${a[key]!.map((n) => `${n.id}${n.hotplugged ? ' (hotplugged)' : n.hotplugged === false ? ' (cold-plugged)' : ''}`).join(', ') || 'none'}]`,
        )
        .join(', ')}`,
    async observe(run, a): Promise<{ type: string; data: MemoryDevice }[]> {
      return run.guest(a.guest).qmp!.execute<{ type: string; data: MemoryDevice }[]>('query-memory-devices');
    },
    judge(a, devices: { type: string; data: MemoryDevice }[]) {
      for (const [key, type] of KINDS) {
        const want = a[key];
        if (want === undefined) continue;
        const have = devices.filter((d) => d.type === type).map((d) => d.data);
        const actual = have.map((d, i) => (i < want.length ? pick(d, Object.keys(want[i]!)) : d));
        checkEqual(`${type} devices in query-memory-devices of ${a.guest.name}`, want, actual);
      }
    },
    mutants(a) {
      const out: Mutant<'expect-memory-devices'>[] = [];
      for (const [key] of KINDS) {
        const want = a[key];
        if (want === undefined) continue;
        const list = (l: typeof want) => ({ [key]: l });
        out.push(mutant(`${key}: one more`, a, list([...want, { id: 'mutant' }])));
        if (want.length > 0) out.push(mutant(`${key}: one fewer`, a, list(want.slice(0, -1))));
        want.forEach((n, i) => {
          const change = (label: string, entry: (typeof want)[number]) =>
            out.push(mutant(`${key}.${i}.${label}`, a, list(want.map((e, j) => (j === i ? entry : e)))));
          change('id changed', { ...n, id: `${n.id}x` });
          if (n.size !== undefined) change(`size+${SIZE_NUDGE}`, { ...n, size: n.size + SIZE_NUDGE });
          if (n.hotplugged !== undefined) change('hotplugged inverted', { ...n, hotplugged: !n.hotplugged });
        });
      }
      return out;
    },
  },
};
