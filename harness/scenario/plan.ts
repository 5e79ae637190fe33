/**
 * Scenario -> Plan: what a file says, resolved into what a run does. Files get their host paths, sizes and
 * whether a guest may write them; machines get their devices, each with its backend and its QEMU option
 * text; steps refer to machines, files and devices by reference. Pure: the caller gives the run's folder,
 * and the loader has already found the scenario's existing files.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { backendObject, nvdimmDevice, type BackendOptions, type NvdimmOptions } from '../devices/nvdimm.js';
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
  file: PlannedFile;
}

export interface PlannedNvdimm extends NvdimmOptions {
  kind: 'nvdimm';
  backend: PlannedBackend;
  /** `-object` / `object_add` text. */
  object: string;
  /** `-device` / `device_add` text. */
  device: string;
}

export type PlannedDevice = PlannedNvdimm;

export interface PlannedMachine {
  name: string;
  type: 'pc' | 'q35';
  nvdimm: boolean;
  memory: { ram: number; slots?: number; maxmem?: number };
  devices: PlannedDevice[];
}

type Args<K extends ActionName> = z.output<(typeof actions)[K]>;

/** A step's arguments with its guests, files and hot-plugged device resolved. */
export type PlannedArgs<K extends ActionName> = K extends 'boot' | 'stop'
  ? PlannedMachine[]
  : K extends 'reboot' | 'restart'
    ? PlannedMachine
    : K extends 'hotplug'
      ? Omit<Args<'hotplug'>, 'guest' | 'id' | 'backend' | 'label-size'> & { guest: PlannedMachine; device: PlannedNvdimm }
      : K extends 'expect-file'
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

export function plan(loaded: LoadedScenario, runDir: string): Plan {
  const { scenario } = loaded;
  const files: Record<string, PlannedFile> = {};
  for (const [name, spec] of Object.entries(scenario.files)) {
    const found = loaded.existing[name];
    files[name] = found
      ? { name, path: found.path, size: found.size, existing: true, writable: spec.writable }
      : { name, path: join(runDir, `${name}.img`), size: spec.size!, existing: false, writable: true };
  }
  const nvdimm = (n: { id: string; backend: { file: string; size?: number; share: boolean }; 'label-size'?: number }): PlannedNvdimm => {
    const file = files[n.backend.file]!;
    const backend: PlannedBackend = { id: `mem-${n.id}`, file, path: file.path, size: n.backend.size ?? file.size, share: n.backend.share };
    const options = { id: n.id, backend, labelSize: n['label-size'] };
    return { kind: 'nvdimm', ...options, object: backendObject(backend), device: nvdimmDevice(options) };
  };
  const machines: Record<string, PlannedMachine> = {};
  for (const [name, g] of Object.entries(scenario.guests)) {
    machines[name] = { name, type: g.machine.type, nvdimm: g.machine.nvdimm, memory: g.memory, devices: g.nvdimms.map(nvdimm) };
  }
  const steps = scenario.steps.map((source, index): PlannedStep => {
    const action = actionOf(source);
    const args = source[action] as Record<string, unknown> | string | string[];
    const resolved = (): unknown => {
      if (Array.isArray(args)) return args.map((g) => machines[g]!);
      if (typeof args === 'string') return machines[args]!;
      if (action === 'expect-file') return { ...args, file: files[args.file as string]! };
      if (action === 'hotplug') {
        const { id, backend, 'label-size': labelSize, ...rest } = args as Args<'hotplug'>;
        return { ...rest, guest: machines[rest.guest]!, device: nvdimm({ id, backend, 'label-size': labelSize }) };
      }
      return { ...args, guest: machines[args.guest as string]! };
    };
    return {
      index,
      at: `${loaded.file}:${loaded.stepLines[index] ?? 1}`,
      action,
      args: resolved(),
      when: source.when,
      source,
    } as PlannedStep;
  });
  return { file: loaded.file, scenario, files, machines, steps };
}

/** Every backend a plan uses, cold-plugged or hot-plugged: for checks that must hold for all of them. */
export function backendsOf(p: Plan): PlannedBackend[] {
  return [
    ...Object.values(p.machines).flatMap((m) => m.devices.map((d) => d.backend)),
    ...p.steps.flatMap((s) => (s.action === 'hotplug' ? [s.args.device.backend] : [])),
  ];
}
