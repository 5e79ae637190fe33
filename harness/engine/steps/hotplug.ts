/** Steps that hot-plug devices and ask QEMU which memory devices a guest has. */
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckFailure } from '../../errors.js';
import { hotplug, HmpError } from '../../qemu/hotplug.js';
import { QmpError } from '../../qemu/qmp.js';
import { formatSize } from '../../scenario/units.js';
import { checkEqual, messageFor, pick } from '../checks.js';
import { hotplugTimeoutMs } from '../environment.js';
import { ndctl } from './guest-checks.js';
import type { StepKinds } from './kind.js';

/** How often the guest's NVDIMMs are listed while waiting for a hot-plugged one; it appears in about 0.2 s under TCG. */
const HOTPLUG_POLL_MS = 100;

export const hotplugSteps: StepKinds<'hotplug' | 'expect-memory-devices'> = {
  hotplug: {
    title: (a) =>
      `${a.guest}: hot-plug ${a.id} (${a.backend.size === undefined ? `file ${a.backend.file}` : formatSize(a.backend.size)}) via ${a.via.toUpperCase()}` +
      (a.error ? ', refused' : ''),
    async run(run, a, ctx) {
      const guest = run.guest(a.guest);
      const before = (await ndctl(guest, ctx.commandTimeoutMs)).topology.dimms.length;
      const expected = a.error === undefined ? undefined : messageFor(a.error, run.env.qemu.version);
      try {
        await hotplug(guest.qmp!, run.env.qemu.version, a.device, a.via);
      } catch (e) {
        if (!expected || !(e instanceof QmpError || e instanceof HmpError)) throw e;
        const said = e instanceof QmpError ? e.desc : e.reply;
        if (!expected.test(said))
          throw new CheckFailure(
            `QEMU refused the hotplug of ${a.device.id} with another message than /${expected.source}/: ${said}`,
            expected.source,
            said,
          );
        return;
      }
      if (expected)
        throw new CheckFailure(
          `QEMU accepted the hotplug of ${a.device.id}; expected a refusal matching /${expected.source}/`,
          expected.source,
          'accepted',
        );
      // The guest learns of the device through an ACPI notification: poll for it rather than sleep.
      const timeout = hotplugTimeoutMs(run.env);
      const deadline = Date.now() + timeout;
      for (;;) {
        const { topology, stdout } = await ndctl(guest, ctx.commandTimeoutMs);
        if (topology.dimms.length > before) return;
        if (Date.now() > deadline)
          throw new CheckFailure(
            `${a.guest.name} still lists ${before} NVDIMM(s) ${timeout / 1000} s after the hotplug of ${a.device.id}:\n${stdout}`,
            before + 1,
            topology.dimms.length,
          );
        await sleep(HOTPLUG_POLL_MS);
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
      checkEqual(`NVDIMMs in query-memory-devices of ${a.guest.name}`, a.nvdimms, actual);
    },
  },
};
