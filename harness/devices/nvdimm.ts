/**
 * The ACPI NVDIMM (`-device nvdimm`): the QEMU options for cold-plugging it, and the QMP arguments for
 * hot-plugging it. Ids and sizes are checked by the scenario schema; paths are
 * escaped, so no scenario value can add an option.
 */
import { optionList, qemuSize } from '../qemu/options.js';
import type { BackendOptions } from './backend.js';

export interface NvdimmOptions {
  id: string;
  backend: BackendOptions;
  labelSize: number | undefined;
  unarmed?: boolean;
  /** NUMA node (proximity domain). */
  node?: number;
  uuid?: string;
}

/** The `-device` text, as `device_add` on the human monitor takes it too. */
export function nvdimmDevice(n: NvdimmOptions): string {
  return optionList('nvdimm', [
    ['id', n.id],
    ['memdev', n.backend.id],
    ['label-size', n.labelSize === undefined ? undefined : qemuSize(n.labelSize)],
    ['unarmed', n.unarmed],
    ['node', n.node],
    ['uuid', n.uuid],
  ]);
}

/** QMP `device_add` arguments. */
export function nvdimmQmp(n: NvdimmOptions): Record<string, unknown> {
  return {
    driver: 'nvdimm',
    id: n.id,
    memdev: n.backend.id,
    ...(n.labelSize === undefined ? {} : { 'label-size': n.labelSize }),
    ...(n.unarmed === undefined ? {} : { unarmed: n.unarmed }),
    ...(n.node === undefined ? {} : { node: n.node }),
    ...(n.uuid === undefined ? {} : { uuid: n.uuid }),
  };
}
