/**
 * The ACPI NVDIMM (`-device nvdimm`) and its memory-backend-file: the QEMU options for cold-plugging it, and
 * the QMP arguments for hot-plugging it. Ids and sizes are checked by the scenario schema; paths are
 * escaped, so no scenario value can add an option.
 */
import { optionList, qemuSize } from '../qemu/options.js';

export interface BackendOptions {
  /** The backend object's id, `mem-<device id>`. */
  id: string;
  path: string;
  size: number;
  share: boolean;
  /** readonly=: left out when the scenario does not say (QEMU 5.2 has no such property). */
  readonly?: boolean;
}

export interface NvdimmOptions {
  id: string;
  backend: BackendOptions;
  labelSize: number | undefined;
  unarmed?: boolean;
}

/** The `-object` text, as `object_add` on the human monitor takes it too. */
export function backendObject(b: BackendOptions): string {
  return optionList('memory-backend-file', [
    ['id', b.id],
    ['share', b.share],
    ['mem-path', b.path],
    ['size', qemuSize(b.size)],
    ['readonly', b.readonly],
  ]);
}

/** The `-device` text, as `device_add` on the human monitor takes it too. */
export function nvdimmDevice(n: NvdimmOptions): string {
  return optionList('nvdimm', [
    ['id', n.id],
    ['memdev', n.backend.id],
    ['label-size', n.labelSize === undefined ? undefined : qemuSize(n.labelSize)],
    ['unarmed', n.unarmed],
  ]);
}

/** QMP `object-add` arguments, in the flat form of QEMU 6.0 on (qemu/hotplug.ts wraps them for older builds). */
export function backendQmp(b: BackendOptions): Record<string, unknown> {
  return {
    'qom-type': 'memory-backend-file',
    id: b.id,
    'mem-path': b.path,
    size: b.size,
    share: b.share,
    ...(b.readonly === undefined ? {} : { readonly: b.readonly }),
  };
}

/** QMP `device_add` arguments. */
export function nvdimmQmp(n: NvdimmOptions): Record<string, unknown> {
  return {
    driver: 'nvdimm',
    id: n.id,
    memdev: n.backend.id,
    ...(n.labelSize === undefined ? {} : { 'label-size': n.labelSize }),
    ...(n.unarmed === undefined ? {} : { unarmed: n.unarmed }),
  };
}
