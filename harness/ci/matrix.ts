import { isAbsolute, normalize, sep } from 'node:path';
import { parseYaml, YamlSchemaError, type YamlIssue } from '../scenario/yaml.js';
import { z } from 'zod';
import { QEMU_BUILDS, versionIn } from '../qemu/versions.js';

/**
 * The CI matrix (ci/matrix.yaml): QEMU versions x guest images x shards, and which scenarios each
 * QEMU x image pair runs. Parsing and the cell computation are pure; the `matrix` command reads the files.
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
  shards: shards.optional().meta({ description: 'shards per cell; defaults to the top-level `shards`' }),
});

const baseSchema = z.strictObject({
  qemu: z.array(qemuVersion).min(1),
  images: z.array(imageName).min(1),
  shards,
  runs: z.array(run).min(1),
});

export type MatrixConfig = z.output<typeof baseSchema>;
export type MatrixRun = MatrixConfig['runs'][number];

/** What the files around the configuration hold, for checks that point at the configuration. */
export interface MatrixContext {
  /** Image names that exist (images/NAME.json). */
  images?: readonly string[];
  /** Whether a scenario file or folder exists. */
  scenarioExists?: (path: string) => boolean;
}

function matrixSchema(context: MatrixContext) {
  return baseSchema.superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    for (const axis of ['qemu', 'images'] as const) {
      c[axis].forEach((v, i) => {
        if (c[axis].indexOf(v) !== i) issue([axis, i], `"${v}" is listed twice`);
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
      for (const axis of ['qemu', 'images'] as const) {
        const selected = r[axis];
        if (selected === 'all') continue;
        selected.forEach((v, j) => {
          if (!c[axis].includes(v)) issue(['runs', i, axis, j], `"${v}" is not in the top-level \`${axis}\` (${c[axis].join(', ')})`);
          else if (selected.indexOf(v) !== j) issue(['runs', i, axis, j], `"${v}" is listed twice`);
        });
      }
      for (const q of selected(c, r, 'qemu')) {
        for (const image of selected(c, r, 'images')) {
          const key = `${q} ${image}`;
          const first = owner.get(key);
          if (first === undefined) owner.set(key, i);
          else if (first !== i) issue(['runs', i], `QEMU ${q} with ${image} is already in runs[${first}]: a pair is one cell`);
        }
      }
    });
    for (const axis of ['qemu', 'images'] as const) {
      c[axis].forEach((v, i) => {
        if (!c.runs.some((r) => selected(c, r, axis).includes(v))) issue([axis, i], `"${v}" is in no run: add it to one, or remove it`);
      });
    }
  });
}

/** The values a run selects on one axis, in the order of the top-level list. */
function selected(c: Pick<MatrixConfig, 'qemu' | 'images'>, r: Pick<MatrixRun, 'qemu' | 'images'>, axis: 'qemu' | 'images'): string[] {
  const choice = r[axis];
  return choice === 'all' ? [...c[axis]] : c[axis].filter((v) => choice.includes(v));
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

/** A scenario file and its `qemu:` range. */
export interface ScenarioRange {
  file: string;
  qemu: string;
}

/** One CI job: a QEMU version, an image, a shard of some scenarios. Keys as GitHub's `matrix.<key>`. */
export interface Cell {
  /** The job's name: "qemu-7.2 debian-bookworm 1/2". */
  name: string;
  qemu: string;
  image: string;
  /** "i/n", as `run --shard` takes it. */
  shard: string;
  /** The scenario file or folder, relative to the repository root. */
  scenarios: string;
  /** The name in file names and artifact names ("/" is not allowed there): "qemu-7.2-debian-bookworm-1of2". */
  id: string;
}

/** A QEMU x image pair that makes no cell, and why. */
export interface DroppedCell {
  qemu: string;
  image: string;
  scenarios: string;
  reason: string;
}

/** The id ci/run-cell.sh derives from its arguments, and so names its report and artifacts. */
export function cellId(qemu: string, image: string, shard: string): string {
  return `qemu-${qemu}-${image}-${shard.replace('/', 'of')}`;
}

/**
 * The cells of the matrix, in the order of `runs`, then QEMU versions and images as listed at the top, then
 * shards. `scenariosOf` gives the scenario files a run's `scenarios` selects. A pair whose QEMU version is
 * outside every selected scenario's range is dropped; a pair is split into at most as many shards as it has
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
      const inRange = scenarios.some((s) => versionIn(qemu, s.qemu));
      for (const image of selected(config, r, 'images')) {
        if (!inRange) {
          const ranges = [...new Set(scenarios.map((s) => s.qemu))].join(', ');
          dropped.push({ qemu, image, scenarios: r.scenarios, reason: `QEMU ${qemu} is outside every scenario's range (${ranges})` });
          continue;
        }
        for (let s = 1; s <= count; s++) {
          const shard = `${s}/${count}`;
          cells.push({
            name: `qemu-${qemu} ${image} ${shard}`,
            qemu,
            image,
            shard,
            scenarios: r.scenarios,
            id: cellId(qemu, image, shard),
          });
        }
      }
    }
  });
  return { cells, dropped };
}

/** For GitHub Actions: `strategy: { matrix: ${{ fromJSON(...) }} }`. */
export function githubMatrix(cells: readonly Cell[]): { include: Cell[] } {
  return { include: [...cells] };
}

/** The cells as a table, then the dropped pairs and how to run a cell locally. */
export function formatTable(cells: readonly Cell[], dropped: readonly DroppedCell[]): string {
  const rows = [['QEMU', 'IMAGE', 'SHARD', 'SCENARIOS'], ...cells.map((c) => [c.qemu, c.image, c.shard, c.scenarios])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const qemus = new Set(cells.map((c) => c.qemu)).size;
  const images = new Set(cells.map((c) => c.image)).size;
  lines.push('', `${cells.length} cells: ${qemus} QEMU version${qemus === 1 ? '' : 's'}, ${images} image${images === 1 ? '' : 's'}`);
  for (const d of dropped) lines.push(`dropped: QEMU ${d.qemu} with ${d.image} for ${d.scenarios}: ${d.reason}`);
  lines.push('run one locally as CI does: ci/run-cell.sh QEMU IMAGE SHARD SCENARIOS');
  return lines.join('\n');
}
