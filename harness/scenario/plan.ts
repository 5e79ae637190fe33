/**
 * Scenario -> Plan: what a file says, resolved into what a run does. Files get their host paths, sizes and
 * whether a guest may write them; machines get their devices, each with its backend and its QEMU option
 * text; steps refer to machines, files and devices by reference. Pure: the caller gives the run's folder,
 * and the loader has already found the scenario's existing files.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { backendObject, backendQmp, type BackendOptions } from '../devices/backend.js';
import type { CxlOptions } from '../devices/cxl.js';
import { nvdimmDevice, nvdimmQmp, type NvdimmOptions } from '../devices/nvdimm.js';
import { virtioPmemDevice, virtioPmemQmp, type VirtioPmemOptions } from '../devices/virtio-pmem.js';
import { CAPABILITIES, DEFAULT_BUILD, has, versionIn } from '../qemu/versions.js';
import type { MachineType } from '../settings.js';
import type { LoadedScenario } from './load.js';
import { actionNames, type actions, type ActionName, type Scenario, type Step } from './schema.js';

export interface PlannedFile {
  name: string;
  path: string;
  /** Bytes: as made for a temporary file, as found for an existing one. */
  size: number;
  /** The user's file, found on disk; otherwise made (sparse) in the run's folder. */
  existing: boolean;
  /** Whether a guest may write to it: always for a temporary file, only if marked for an existing one. */
  writable: boolean;
}

export interface PlannedBackend extends BackendOptions {
  /** The host file behind a file backend; none behind RAM and memfd. */
  file?: PlannedFile;
}

/** What every device kind has: its backend, and its QEMU text and QMP arguments, cold and hot. */
interface PlannedDeviceBase {
  id: string;
  backend: PlannedBackend;
  /** `-object` / `object_add` text. */
  object: string;
  /** `-device` / `device_add` text. */
  device: string;
  /** QMP `object-add` arguments, flat (qemu/hotplug.ts wraps them for builds before 6.0). */
  objectQmp: Record<string, unknown>;
  /** QMP `device_add` arguments. */
  deviceQmp: Record<string, unknown>;
}

export interface PlannedNvdimm extends PlannedDeviceBase, NvdimmOptions {
  kind: 'nvdimm';
  backend: PlannedBackend;
}

export interface PlannedVirtioPmem extends PlannedDeviceBase, VirtioPmemOptions {
  kind: 'virtio-pmem';
  backend: PlannedBackend;
}

export type PlannedDevice = PlannedNvdimm | PlannedVirtioPmem;

export interface PlannedCxl extends CxlOptions {
  backend: PlannedBackend;
  lsa: PlannedBackend;
}

export interface PlannedMachine {
  name: string;
  type: MachineType;
  nvdimm: boolean;
  /** -machine nvdimm-persistence=, when the scenario gives it. */
  nvdimmPersistence?: string;
  cpus: number;
  memory: { ram: number; slots?: number; maxmem?: number };
  /** NUMA nodes the RAM is split between (-numa), when the scenario gives them. */
  numaNodes?: number;
  devices: PlannedDevice[];
  /**
   * PCIe root ports (`pcie-root-port` ids) for the PCI devices hot-plugged later, one each: q35's root bus
   * (pcie.0) refuses hotplug ("Bus 'pcie.0' does not support hotplugging"), so they are made at start-up.
   */
  hotplugPorts: string[];
  /** CXL type-3 devices, and the name this QEMU build gives their backend property. */
  cxl?: { devices: PlannedCxl[]; backendProperty: 'memdev' | 'persistent-memdev' };
}

type Args<K extends ActionName> = z.output<(typeof actions)[K]>;

/** A step's arguments with its guests, files and hot-plugged device resolved. */
export type PlannedArgs<K extends ActionName> = K extends 'boot' | 'stop'
  ? PlannedMachine[]
  : K extends 'reboot' | 'restart'
    ? PlannedMachine
    : K extends 'hotplug'
      ? Omit<Args<'hotplug'>, 'guest' | 'id' | 'kind' | 'backend' | 'label-size'> & { guest: PlannedMachine; device: PlannedDevice }
      : K extends 'expect-file' | 'prepare-file'
        ? Omit<Args<K>, 'file'> & { file: PlannedFile }
        : Omit<Args<K>, 'guest'> & { guest: PlannedMachine };

export type PlannedStep = {
  [K in ActionName]: {
    /** 0-based position in the scenario's steps; reports say `step index + 1`. */
    index: number;
    /** Where the step is written: `file:line`. */
    at: string;
    action: K;
    args: PlannedArgs<K>;
    when: Step['when'];
    unless: Step['unless'];
    /** The scenario step as written, for titles and reports. */
    source: Step;
  };
}[ActionName];

export interface Plan {
  file: string;
  scenario: Scenario;
  files: Record<string, PlannedFile>;
  machines: Record<string, PlannedMachine>;
  steps: PlannedStep[];
}

export function actionOf(step: Step): ActionName {
  return actionNames.find((a) => step[a] !== undefined)!;
}

/**
 * `machine`: the run's machine type, for guests that do not name one; `qemuVersion`: the build's, where
 * option names differ between builds.
 */
export function plan(
  loaded: LoadedScenario,
  runDir: string,
  machine: MachineType = 'pc',
  qemuVersion: string = DEFAULT_BUILD.version,
): Plan {
  const { scenario } = loaded;
  const files: Record<string, PlannedFile> = {};
  for (const [name, spec] of Object.entries(scenario.files)) {
    const found = loaded.existing[name];
    files[name] = found
      ? { name, path: found.path, size: found.size, existing: true, writable: spec.writable }
      : { name, path: join(runDir, `${name}.img`), size: spec.size!, existing: false, writable: true };
  }
  type BackendSpec = Scenario['guests'][string]['nvdimms'][number]['backend'];
  const backendOf = (id: string, b: BackendSpec): PlannedBackend => {
    const fileOptions = { readonly: b.readonly, align: b.align, offset: b.offset, pmem: b.pmem };
    const given = Object.fromEntries(Object.entries(fileOptions).filter(([, v]) => v !== undefined));
    if (b.file === undefined)
      return { id: `mem-${id}`, kind: b.ram !== undefined ? 'ram' : 'memfd', size: (b.ram ?? b.memfd)!, share: b.share };
    const file = files[b.file]!;
    // Without a size, QEMU maps the file from `offset` to its end.
    return { id: `mem-${id}`, kind: 'file', file, path: file.path, size: b.size ?? file.size - (b.offset ?? 0), share: b.share, ...given };
  };
  const nvdimm = (n: {
    id: string;
    backend: BackendSpec;
    'label-size'?: number;
    unarmed?: boolean;
    node?: number;
    uuid?: string;
  }): PlannedNvdimm => {
    const backend = backendOf(n.id, n.backend);
    const options = { id: n.id, backend, labelSize: n['label-size'], unarmed: n.unarmed, node: n.node, uuid: n.uuid };
    return {
      kind: 'nvdimm',
      ...options,
      object: backendObject(backend),
      device: nvdimmDevice(options),
      objectQmp: backendQmp(backend),
      deviceQmp: nvdimmQmp(options),
    };
  };
  const virtioPmem = (v: { id: string; backend: BackendSpec }, bus?: string): PlannedVirtioPmem => {
    const options = { id: v.id, backend: backendOf(v.id, v.backend), ...(bus === undefined ? {} : { bus }) };
    return {
      kind: 'virtio-pmem',
      ...options,
      object: backendObject(options.backend),
      device: virtioPmemDevice(options),
      objectQmp: backendQmp(options.backend),
      deviceQmp: virtioPmemQmp(options),
    };
  };
  const machines: Record<string, PlannedMachine> = {};
  for (const [name, g] of Object.entries(scenario.guests)) {
    const devices = [...g.nvdimms.map(nvdimm), ...g['virtio-pmem'].map((v) => virtioPmem(v))];
    const persistence = g.machine['nvdimm-persistence'];
    const type = g.machine.type ?? machine;
    const hotplugged = scenario.steps.flatMap((s) => (s.hotplug?.guest === name && s.hotplug.kind === 'virtio-pmem' ? [s.hotplug.id] : []));
    machines[name] = {
      name,
      type,
      nvdimm: g.machine.nvdimm,
      ...(persistence === undefined ? {} : { nvdimmPersistence: persistence }),
      cpus: g.cpus,
      memory: g.memory,
      ...(g.numa === undefined ? {} : { numaNodes: g.numa }),
      devices,
      hotplugPorts: type === 'q35' ? hotplugged.map(portFor) : [],
      ...(g.cxl.length === 0
        ? {}
        : {
            cxl: {
              devices: g.cxl.map((c) => ({ id: c.id, backend: backendOf(c.id, c.backend), lsa: backendOf(`${c.id}-lsa`, c.lsa) })),
              backendProperty: has(qemuVersion, 'cxlPersistentMemdev') ? 'persistent-memdev' : 'memdev',
            },
          }),
    };
  }
  const steps = scenario.steps.map((source, index): PlannedStep => {
    const action = actionOf(source);
    const args = source[action] as Record<string, unknown> | string | string[];
    const resolved = (): unknown => {
      if (Array.isArray(args)) return args.map((g) => machines[g]!);
      if (typeof args === 'string') return machines[args]!;
      if (action === 'expect-file' || action === 'prepare-file') return { ...args, file: files[args.file as string]! };
      if (action === 'hotplug') {
        const { id, kind, backend, 'label-size': labelSize, ...rest } = args as Args<'hotplug'>;
        const guest = machines[rest.guest]!;
        const device =
          kind === 'virtio-pmem'
            ? virtioPmem({ id, backend }, guest.hotplugPorts.length > 0 ? portFor(id) : undefined)
            : nvdimm({ id, backend, 'label-size': labelSize });
        return { ...rest, guest, device };
      }
      return { ...args, guest: machines[args.guest as string]! };
    };
    return {
      index,
      at: `${loaded.file}:${loaded.stepLines[index] ?? 1}`,
      action,
      args: resolved(),
      when: source.when,
      unless: source.unless,
      source,
    } as PlannedStep;
  });
  return { file: loaded.file, scenario, files, machines, steps };
}

/** The root port a hot-plugged PCI device goes into on q35. */
function portFor(deviceId: string): string {
  return `port-${deviceId}`;
}

/**
 * Why a step's `when:` does not hold for this QEMU version, image and machine type, if it does not. Without
 * an image or machine, that condition is not judged (`list` counts what each QEMU build runs).
 */
export function whenUnmet(
  when: Step['when'],
  qemuVersion: string,
  { image, machine }: { image?: string; machine?: MachineType } = {},
): string | undefined {
  if (when?.qemu && !versionIn(qemuVersion, when.qemu)) return `only for QEMU ${when.qemu}, this is ${qemuVersion}`;
  if (when?.capability && !has(qemuVersion, when.capability))
    return `only for QEMU builds with ${when.capability} (${CAPABILITIES[when.capability]}), this is ${qemuVersion}`;
  if (image !== undefined && when?.image && when.image !== image) return `only for image ${when.image}, this is ${image}`;
  if (machine !== undefined && when?.machine && when.machine !== machine) return `only for machine ${when.machine}, this is ${machine}`;
  return undefined;
}

/**
 * Why a step does not run here: its `when:` does not hold, or every condition of its `unless:` does (a
 * condition that cannot be judged, such as the machine in `list`, does not hold).
 */
export function stepUnmet(
  step: Pick<Step, 'when' | 'unless'>,
  qemuVersion: string,
  where: { image?: string; machine?: MachineType } = {},
): string | undefined {
  const reason = whenUnmet(step.when, qemuVersion, where);
  if (reason || !step.unless) return reason;
  const { qemu, capability, image, machine } = step.unless;
  const judged = (image === undefined || where.image !== undefined) && (machine === undefined || where.machine !== undefined);
  if (!judged || whenUnmet(step.unless, qemuVersion, where) !== undefined) return undefined;
  const conditions = [
    qemu && `QEMU ${qemu}`,
    capability && `builds with ${capability}`,
    image && `image ${image}`,
    machine && `machine ${machine}`,
  ].filter(Boolean);
  return `not for ${conditions.join(' on ')} (this is QEMU ${qemuVersion}${where.image ? `, ${where.image}` : ''}${where.machine ? `, ${where.machine}` : ''})`;
}

/** Every backend a plan uses, cold-plugged or hot-plugged: for checks that must hold for all of them. */
export function backendsOf(p: Plan): PlannedBackend[] {
  return [
    ...Object.values(p.machines).flatMap((m) => [
      ...m.devices.map((d) => d.backend),
      ...(m.cxl?.devices.flatMap((c) => [c.backend, c.lsa]) ?? []),
    ]),
    ...p.steps.flatMap((s) => (s.action === 'hotplug' ? [s.args.device.backend] : [])),
  ];
}
