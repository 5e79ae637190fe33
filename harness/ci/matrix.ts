import { isAbsolute, normalize, sep } from 'node:path';
import { parseYaml, YamlSchemaError, type YamlIssue } from '../scenario/yaml.js';
import { z } from 'zod';
import { QEMU_BUILDS, versionIn } from '../qemu/versions.js';
import { MACHINE_TYPES } from '../settings.js';
import { archOfMachine, type MachineType } from '../arch.js';

/**
 * The CI matrix (ci/matrix.yaml): QEMU versions x guest images x machine types x shards, and which scenarios
 * each QEMU x image x machine triple runs. Parsing and the cell computation are pure; the `matrix` command
 * reads the files.
 */

/** QEMU versions a cell may name: the Debian builds the harness provisions (`run --qemu 7.2`). */
const QEMU_VERSIONS: readonly string[] = QEMU_BUILDS.map((s) => s.version);

const qemuVersion = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? `expected a version in quotes, such as "10.0": unquoted, YAML reads it as the number ${String(iss.input)}`
        : 'expected a QEMU version as a string',
  })
  .refine((v) => QEMU_VERSIONS.includes(v), {
    message: `expected a QEMU version the harness provisions: ${QEMU_VERSIONS.join(', ')}`,
  });

const imageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected an image name, images/NAME.json');

/** Machine types a cell may name, as `run --machine` takes them. */
const machineType = z.enum(MACHINE_TYPES, { error: `expected a machine type: ${MACHINE_TYPES.join(', ')}` });

/** `all` (every value declared at the top), or a list of declared values. */
function selector<T extends z.ZodType<string>>(item: T) {
  return z.union([
    z.literal('all', { error: 'expected "all" or a list' }),
    z.array(item, { error: 'expected "all" or a list' }).min(1, 'expected "all" or a non-empty list'),
  ]);
}

const shards = z.int().min(1).max(64);

const scenarioPath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && normalize(p).split(sep)[0] !== '..', {
    message: 'expected a scenario file or folder relative to the repository root',
  });

const run = z.strictObject({
  scenarios: scenarioPath.meta({ description: 'a scenario file or folder, relative to the repository root' }),
  qemu: selector(qemuVersion),
  images: selector(imageName),
  machines: selector(machineType),
  shards: shards.optional().meta({ description: 'shards per cell; defaults to the top-level `shards`' }),
});

const baseSchema = z.strictObject({
  qemu: z.array(qemuVersion).min(1),
  images: z.array(imageName).min(1),
  machines: z.array(machineType).min(1),
  shards,
  runs: z.array(run).min(1),
});

export type MatrixConfig = z.output<typeof baseSchema>;
export type MatrixRun = MatrixConfig['runs'][number];

/** The axes a run selects values of, each declared by a top-level list of the same name. */
const AXES = ['qemu', 'images', 'machines'] as const;
type Axis = (typeof AXES)[number];

/** The values declared at the top for one axis. */
function declared(c: Pick<MatrixConfig, Axis>, axis: Axis): readonly string[] {
  return c[axis];
}

/** What the files around the configuration hold, for checks that point at the configuration. */
export interface MatrixContext {
  /** Image names that exist (images/NAME.json). */
  images?: readonly string[];
  /** Whether a scenario file or folder exists. */
  scenarioExists?: (path: string) => boolean;
  /** The guest architecture of an image (its recipe's `arch`). */
  imageArch?: (image: string) => string | undefined;
}

function matrixSchema(context: MatrixContext) {
  return baseSchema.superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    for (const axis of AXES) {
      declared(c, axis).forEach((v, i, all) => {
        if (all.indexOf(v) !== i) issue([axis, i], `"${v}" is listed twice`);
      });
    }
    if (context.images) {
      c.images.forEach((image, i) => {
        if (!context.images!.includes(image)) issue(['images', i], `no images/${image}.json (have: ${context.images!.join(', ')})`);
      });
    }
    const owner = new Map<string, number>();
    c.runs.forEach((r, i) => {
      if (context.scenarioExists && !context.scenarioExists(r.scenarios))
        issue(['runs', i, 'scenarios'], `no such file or folder: ${r.scenarios}`);
      for (const axis of AXES) {
        const choice: 'all' | readonly string[] = r[axis];
        if (choice === 'all') continue;
        const top = declared(c, axis);
        choice.forEach((v, j) => {
          if (!top.includes(v)) issue(['runs', i, axis, j], `"${v}" is not in the top-level \`${axis}\` (${top.join(', ')})`);
          else if (choice.indexOf(v) !== j) issue(['runs', i, axis, j], `"${v}" is listed twice`);
        });
      }
      for (const q of selected(c, r, 'qemu')) {
        for (const image of selected(c, r, 'images')) {
          for (const machine of selected(c, r, 'machines')) {
            const arch = context.imageArch?.(image);
            // The machine type is the arch axis: virt is arm64's, and its cells need an arm64 image.
            if (arch !== undefined && arch !== archOfMachine(machine as MachineType))
              issue(['runs', i], `image ${image} is for ${arch}, but machine ${machine} is ${archOfMachine(machine as MachineType)}'s`);
            const key = `${q} ${image} ${machine}`;
            const first = owner.get(key);
            if (first === undefined) owner.set(key, i);
            else if (first !== i)
              issue(
                ['runs', i],
                `QEMU ${q} with ${image} on ${machine} is already in runs[${first}]: a QEMU x image x machine triple is one cell`,
              );
          }
        }
      }
    });
    for (const axis of AXES) {
      declared(c, axis).forEach((v, i) => {
        if (!c.runs.some((r) => selected(c, r, axis).includes(v))) issue([axis, i], `"${v}" is in no run: add it to one, or remove it`);
      });
    }
  });
}

/** The values a run selects on one axis, in the order of the top-level list. */
function selected(c: Pick<MatrixConfig, Axis>, r: Pick<MatrixRun, Axis>, axis: Axis): string[] {
  const choice: 'all' | readonly string[] = r[axis];
  const top = declared(c, axis);
  return choice === 'all' ? [...top] : top.filter((v) => choice.includes(v));
}

/** A configuration that cannot be used; the message lists every problem as file:line:column. */
export class MatrixConfigError extends YamlSchemaError {
  constructor(issues: YamlIssue[]) {
    super(issues);
  }
}

/** Parses and validates ci/matrix.yaml; throws MatrixConfigError with every problem found. */
export function parseMatrixConfig(text: string, file: string, context: MatrixContext = {}): MatrixConfig {
  try {
    return parseYaml(text, file, matrixSchema(context));
  } catch (e) {
    if (e instanceof YamlSchemaError) throw new MatrixConfigError(e.issues);
    throw e;
  }
}

/** A scenario file, its `qemu:` range and its `machines:`. */
export interface ScenarioRange {
  file: string;
  qemu: string;
  /** The machine types the scenario is for; a run on another skips it. */
  machines: string[];
  /** The guest architectures the scenario is for. */
  arches: string[];
}

/** One CI job: a QEMU version, an image, a machine type, a shard of some scenarios. Keys as GitHub's `matrix.<key>`. */
export interface Cell {
  /** The job's name: "qemu-7.2 debian-bookworm q35 1/2". */
  name: string;
  qemu: string;
  image: string;
  /** The machine type, as `run --machine` takes it: pc or q35. */
  machine: string;
  /** "i/n", as `run --shard` takes it. */
  shard: string;
  /** The scenario file or folder, relative to the repository root. */
  scenarios: string;
  /** The name in file names and artifact names ("/" is not allowed there): "qemu-7.2-debian-bookworm-q35-1of2". */
  id: string;
}

/** A QEMU x image x machine triple that makes no cell, and why. */
export interface DroppedCell {
  qemu: string;
  image: string;
  machine: string;
  scenarios: string;
  reason: string;
}

/** The id ci/run-cell.mjs derives from its arguments, and so names its report and artifacts. */
export function cellId(qemu: string, image: string, machine: string, shard: string): string {
  return `qemu-${qemu}-${image}-${machine}-${shard.replace('/', 'of')}`;
}

/**
 * The cells of the matrix, in the order of `runs`, then QEMU versions, images and machine types as listed at
 * the top, then shards. `scenariosOf` gives the scenario files a run's `scenarios` selects. A QEMU x image x
 * machine triple is dropped when no selected scenario is both in range for its QEMU version and for its
 * machine type (every scenario would be skipped); a triple is split into at most as many shards as it has
 * scenario files (vitest refuses more shards than files, and an empty shard would be a job for nothing).
 */
export function computeCells(
  config: MatrixConfig,
  scenariosOf: (scenarios: string) => readonly ScenarioRange[],
): { cells: Cell[]; dropped: DroppedCell[] } {
  const cells: Cell[] = [];
  const dropped: DroppedCell[] = [];
  config.runs.forEach((r, i) => {
    const scenarios = scenariosOf(r.scenarios);
    if (scenarios.length === 0) throw new Error(`runs[${i}]: no scenario file in ${r.scenarios}`);
    const count = Math.min(r.shards ?? config.shards, scenarios.length);
    for (const qemu of selected(config, r, 'qemu')) {
      const inRange = scenarios.filter((s) => versionIn(qemu, s.qemu));
      for (const image of selected(config, r, 'images')) {
        for (const machine of selected(config, r, 'machines')) {
          const reason = dropReason(qemu, machine, scenarios, inRange);
          if (reason) {
            dropped.push({ qemu, image, machine, scenarios: r.scenarios, reason });
            continue;
          }
          for (let s = 1; s <= count; s++) {
            const shard = `${s}/${count}`;
            cells.push({
              name: `qemu-${qemu} ${image} ${machine} ${shard}`,
              qemu,
              image,
              machine,
              shard,
              scenarios: r.scenarios,
              id: cellId(qemu, image, machine, shard),
            });
          }
        }
      }
    }
  });
  return { cells, dropped };
}

/** Why a cell on this QEMU version and machine type would skip every scenario, or undefined if it would not. */
function dropReason(
  qemu: string,
  machine: string,
  scenarios: readonly ScenarioRange[],
  inRange: readonly ScenarioRange[],
): string | undefined {
  const list = (values: string[]) => [...new Set(values)].join(', ');
  if (inRange.length === 0) return `QEMU ${qemu} is outside every scenario's range (${list(scenarios.map((s) => s.qemu))})`;
  if (!inRange.some((s) => s.machines.includes(machine)))
    return `no scenario in range for QEMU ${qemu} is for machine ${machine} (their machines: ${list(inRange.flatMap((s) => s.machines))})`;
  const arch = archOfMachine(machine as MachineType);
  if (!inRange.some((s) => s.machines.includes(machine) && s.arches.includes(arch)))
    return `no scenario in range for QEMU ${qemu} and machine ${machine} is for ${arch}`;
  return undefined;
}

/** For GitHub Actions: `strategy: { matrix: ${{ fromJSON(...) }} }`. */
export function githubMatrix(cells: readonly Cell[]): { include: Cell[] } {
  return { include: [...cells] };
}

/** The cells as a table, then the dropped triples and how to run a cell locally. */
export function formatTable(cells: readonly Cell[], dropped: readonly DroppedCell[]): string {
  const rows = [
    ['QEMU', 'IMAGE', 'MACHINE', 'SHARD', 'SCENARIOS'],
    ...cells.map((c) => [c.qemu, c.image, c.machine, c.shard, c.scenarios]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const qemus = new Set(cells.map((c) => c.qemu)).size;
  const images = new Set(cells.map((c) => c.image)).size;
  const machines = new Set(cells.map((c) => c.machine)).size;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    '',
    `${cells.length} cells: ${plural(qemus, 'QEMU version')}, ${plural(images, 'image')}, ${plural(machines, 'machine type')}`,
  );
  for (const d of dropped) lines.push(`dropped: QEMU ${d.qemu} with ${d.image} on ${d.machine} for ${d.scenarios}: ${d.reason}`);
  lines.push('run one locally as CI does: node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD SCENARIOS');
  return lines.join('\n');
}
