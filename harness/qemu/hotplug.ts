import type { PlannedDevice } from '../scenario/plan.js';
import { HarnessError } from '../errors.js';
import type { Qmp } from './qmp.js';
import { has } from './versions.js';

/**
 * Hot-plugs a device the two ways the QEMU document describes: QMP `object-add` + `device_add`, or the
 * human monitor's `object_add` + `device_add` lines. Throws QEMU's own words when it refuses.
 */
export async function hotplug(qmp: Qmp, qemuVersion: string, device: PlannedDevice, via: 'qmp' | 'hmp'): Promise<void> {
  if (via === 'hmp') {
    await hmpOrThrow(qmp, `object_add ${device.object}`);
    await hmpOrThrow(qmp, `device_add ${device.device}`);
    return;
  }
  const { 'qom-type': type, id, ...props } = device.objectQmp;
  await qmp.execute('object-add', has(qemuVersion, 'objectAddFlat') ? { 'qom-type': type, id, ...props } : { 'qom-type': type, id, props });
  await qmp.execute('device_add', device.deviceQmp);
}

/** The human monitor answers errors as text rather than as a QMP error. */
export class HmpError extends HarnessError {
  constructor(
    readonly commandLine: string,
    readonly reply: string,
  ) {
    super('QEMU_REFUSED', `HMP ${commandLine.split(' ')[0]} failed: ${reply.trim()}`);
  }
}

async function hmpOrThrow(qmp: Qmp, line: string): Promise<void> {
  const reply = await qmp.hmp(line);
  if (reply.trim() !== '') throw new HmpError(line, reply);
}
