/**
 * virtio-pmem (`-device virtio-pmem-pci`): persistent memory on a memory backend through virtio, with
 * no ACPI NVDIMM and no label area. Like an NVDIMM it is a memory device, so the guest needs `-m slots=,maxmem=`.
 */
import { optionList } from '../qemu/options.js';
import type { BackendOptions } from './backend.js';

export interface VirtioPmemOptions {
  id: string;
  backend: BackendOptions;
  /** The PCIe root port it is plugged into: q35's root bus takes no hot-plugged device. */
  bus?: string;
}

/** The `-device` text, as `device_add` on the human monitor takes it too. */
export function virtioPmemDevice(v: VirtioPmemOptions): string {
  return optionList('virtio-pmem-pci', [
    ['id', v.id],
    ['memdev', v.backend.id],
    ['bus', v.bus],
  ]);
}

/** QMP `device_add` arguments. */
export function virtioPmemQmp(v: VirtioPmemOptions): Record<string, unknown> {
  return { driver: 'virtio-pmem-pci', id: v.id, memdev: v.backend.id, ...(v.bus === undefined ? {} : { bus: v.bus }) };
}
