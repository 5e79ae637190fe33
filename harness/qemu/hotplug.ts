import semver from 'semver';
import { backendObject, nvdimmDevice } from './argv.js';
import type { Qmp } from './qmp.js';

export interface HotplugSpec {
  id: string;
  path: string;
  size: number;
  share: boolean;
  labelSize: number | undefined;
}

/**
 * Hot-plugs an NVDIMM the two ways the QEMU document describes: QMP `object-add` + `device_add`, or the
 * human monitor's `object_add` + `device_add` lines. Throws QEMU's own words when it refuses.
 */
export async function hotplugNvdimm(qmp: Qmp, qemuVersion: string, spec: HotplugSpec, via: 'qmp' | 'hmp'): Promise<void> {
  if (via === 'hmp') {
    await hmpOrThrow(qmp, `object_add ${backendObject(spec.id, spec.path, spec.size, spec.share)}`);
    await hmpOrThrow(qmp, `device_add ${nvdimmDevice(spec.id, spec.labelSize)}`);
    return;
  }
  const props = { 'mem-path': spec.path, size: spec.size, share: spec.share };
  // QEMU 6.0 made object-add's properties top-level arguments; before, they went in "props".
  const objectArgs = semver.gte(qemuVersion, '6.0.0')
    ? { 'qom-type': 'memory-backend-file', id: `mem-${spec.id}`, ...props }
    : { 'qom-type': 'memory-backend-file', id: `mem-${spec.id}`, props };
  await qmp.execute('object-add', objectArgs);
  await qmp.execute('device_add', {
    driver: 'nvdimm',
    id: spec.id,
    memdev: `mem-${spec.id}`,
    ...(spec.labelSize === undefined ? {} : { 'label-size': spec.labelSize }),
  });
}

/** The human monitor answers errors as text rather than as a QMP error. */
export class HmpError extends Error {
  constructor(
    readonly commandLine: string,
    readonly reply: string,
  ) {
    super(`HMP ${commandLine.split(' ')[0]} failed: ${reply.trim()}`);
    this.name = 'HmpError';
  }
}

async function hmpOrThrow(qmp: Qmp, line: string): Promise<void> {
  const reply = await qmp.hmp(line);
  if (reply.trim() !== '') throw new HmpError(line, reply);
}
