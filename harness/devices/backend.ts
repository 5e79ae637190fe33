/**
 * The memory backends behind every pmem device kind: `memory-backend-file` (a host file), and
 * `memory-backend-ram` and `memory-backend-memfd` (anonymous memory: nothing reaches a host file, and
 * nothing survives QEMU). Ids and sizes are checked by the scenario schema; paths are escaped, so no
 * scenario value can add an option.
 */
import { optionList, qemuSize } from '../qemu/options.js';

export type BackendKind = 'file' | 'ram' | 'memfd';

export interface BackendOptions {
  /** The backend object's id, `mem-<device id>`. */
  id: string;
  kind: BackendKind;
  /** The host file: memory-backend-file only. */
  path?: string;
  size: number;
  share: boolean;
  /** The rest are memory-backend-file's, left out when the scenario does not give them (not every build has each). */
  readonly?: boolean;
  align?: number;
  offset?: number;
  pmem?: boolean;
}

/** The `-object` text, as `object_add` on the human monitor takes it too. */
export function backendObject(b: BackendOptions): string {
  return optionList(`memory-backend-${b.kind}`, [
    ['id', b.id],
    ['share', b.share],
    ['mem-path', b.path],
    ['size', qemuSize(b.size)],
    ['offset', b.offset === undefined ? undefined : qemuSize(b.offset)],
    ['align', b.align === undefined ? undefined : qemuSize(b.align)],
    ['pmem', b.pmem],
    ['readonly', b.readonly],
  ]);
}

/** QMP `object-add` arguments, in the flat form of QEMU 6.0 on (qemu/hotplug.ts wraps them for older builds). */
export function backendQmp(b: BackendOptions): Record<string, unknown> {
  const optional = { 'mem-path': b.path, offset: b.offset, align: b.align, pmem: b.pmem, readonly: b.readonly };
  return {
    'qom-type': `memory-backend-${b.kind}`,
    id: b.id,
    size: b.size,
    share: b.share,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}
