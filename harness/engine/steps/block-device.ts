/**
 * A step's device, as a path in the guest. `{ nvdimm: ID }` or `{ virtio-pmem: ID }` names a QEMU device: its
 * guest-physical address comes from QMP query-memory-devices, and the block device is the one under the nd
 * region that starts there (sysfs `regionN/resource`), so the kernel's numbering of pmem devices, which
 * follows discovery order, does not matter.
 */
import { GuestCommandError } from '../../errors.js';
import type { Guest } from '../../guest/guest.js';
import type { Args } from './kind.js';

export type DeviceRef = Args<'write'>['device'];

export function describeDevice(device: DeviceRef): string {
  if (typeof device === 'string') return device;
  return 'nvdimm' in device ? `nvdimm ${device.nvdimm}'s pmem` : `virtio-pmem ${device['virtio-pmem']}'s pmem`;
}

export async function blockDevice(guest: Guest, device: DeviceRef, timeoutMs: number): Promise<string> {
  if (typeof device === 'string') return device;
  const [type, id] = 'nvdimm' in device ? ['nvdimm', device.nvdimm] : ['virtio-pmem', device['virtio-pmem']];
  const devices = await guest.qmp!.execute<{ type: string; data: Record<string, unknown> }[]>('query-memory-devices');
  const found = devices.find((d) => d.type === type && d.data.id === id);
  // An NVDIMM's start is "addr", a virtio-pmem device's "memaddr".
  const address = Number(found?.data.addr ?? found?.data.memaddr);
  if (!found || !Number.isSafeInteger(address))
    throw new GuestCommandError(`QEMU lists no ${type} "${id}" in ${guest.opts.machine.name}'s query-memory-devices`);
  const r = await guest.exec(
    `for r in /sys/bus/nd/devices/region*; do [ $(($(cat $r/resource))) -eq ${address} ] && ls $r/namespace*/block 2>/dev/null; done`,
    undefined,
    timeoutMs,
  );
  const name = r.stdout
    .split('\n')
    .find((l) => /^pmem[\w.]*$/.test(l.trim()))
    ?.trim();
  if (!name)
    throw new GuestCommandError({
      why: `${guest.opts.machine.name} has no pmem block device on the region at 0x${address.toString(16)} (${type} ${id})`,
      evidence: [['stderr', r.stderr]],
    });
  return `/dev/${name}`;
}
