import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { execa } from 'execa';
import { isCellReport } from '../report/cell-report.js';
import { defaultImage, imageNames, loadRecipe } from '../images/recipe.js';
import { ARCH_NAMES, ARCHES } from '../arch.js';
import { QEMU_BUILDS } from '../qemu/versions.js';
import { PACKAGE_ROOT } from '../root.js';
import { MACHINE_TYPES } from '../settings.js';
import {
  computeCells,
  formatTable,
  githubMatrix,
  MatrixConfigError,
  parseMatrixConfig,
  type Cell,
  type ScenarioRange,
} from '../ci/matrix.js';
import { DEFAULT_SCENARIOS, loadAll, scenarioFiles } from './scenario-files.js';

const MATRIX_CONFIG = 'ci/matrix.yaml';

/**
 * Without a configuration here: ./scenarios on every QEMU build the harness provisions, on each machine type
 * with its architecture's default image.
 */
const DEFAULT_CONFIG = `qemu: ${JSON.stringify(QEMU_BUILDS.map((b) => b.version))}
images: ${JSON.stringify(ARCH_NAMES.map(defaultImage))}
machines: ${JSON.stringify(MACHINE_TYPES)}
shards: 1
runs:
${ARCH_NAMES.map((a) => `  - { scenarios: ${DEFAULT_SCENARIOS}, qemu: all, images: [${defaultImage(a)}], machines: ${JSON.stringify(ARCHES[a].machines)} }`).join('\n')}
`;

/** The scripts that run cells as CI does: in a clone of the harness, not in the installed package. */
const CELL_SCRIPTS = ['ci/run-cell.mjs', 'ci/report.mjs'].map((f) => join(PACKAGE_ROOT, f));

export function registerMatrix(program: Command): void {
  program
    .command('matrix')
    .description(
      `the CI matrix: QEMU version x guest image x machine type x shard cells, from ${MATRIX_CONFIG} and the scenarios' QEMU ranges and machines`,
    )
    .option('--json', 'print {"include": [cells]} on one line, for GitHub Actions: strategy.matrix: ${{ fromJSON(...) }}')
    .option(
      '--config <file>',
      `matrix configuration (default: ${MATRIX_CONFIG} if there is one, else ${DEFAULT_SCENARIOS}/ on every QEMU build, the default image and each machine type); its scenario paths are relative to the current directory`,
    )
    .option('--cells <regexp>', 'only the cells whose id (qemu-7.2-debian-bookworm-pc-1of2) matches this regular expression', cellsPattern)
    .option(
      '--run',
      `run the cells here one after another as CI does (node ci/run-cell.mjs), then their page (node ci/report.mjs) in ${REPORTS}/`,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ nvdimm-harness matrix --run                                  # every cell, then reports/matrix.html
  $ nvdimm-harness matrix --run --cells '^qemu-7\.2-.*-pc-'       # QEMU 7.2 on every image, pc

Run one cell locally exactly as CI does: node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD SCENARIOS

Exit status: 0 cells printed (with --run: every cell passed), 1 no cell left (with --run: a cell failed),
2 the configuration, a scenario file or an option is malformed.`,
    )
    .action(async (opts: MatrixOptions) => {
      process.exitCode = await matrix(opts);
    });
}

interface MatrixOptions {
  json?: boolean;
  config?: string;
  cells?: RegExp;
  run?: boolean;
}

/** Where ci/run-cell.mjs writes each cell's report, and ci/report.mjs the page. */
const REPORTS = 'reports';

function cellsPattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/**
 * Every cell in turn, as CI runs it (each one's run already keeps every core busy), then the page of them
 * all. The reports of an earlier run are removed first, so that the page is of this run alone.
 */
async function runCells(cells: readonly Cell[]): Promise<number> {
  const missing = CELL_SCRIPTS.find((f) => !existsSync(f));
  if (missing) {
    console.error(
      `matrix --run needs ${relative(PACKAGE_ROOT, missing)} of a clone of nvdimm-harness; here, run each cell with nvdimm-harness run --qemu Q --image I --machine M --shard S`,
    );
    return 2;
  }
  const reports = join(PACKAGE_ROOT, REPORTS);
  if (existsSync(reports)) for (const f of readdirSync(reports).filter(isCellReport)) rmSync(join(reports, f));
  let failed = 0;
  for (const [i, c] of cells.entries()) {
    console.error(`\nmatrix: cell ${i + 1} of ${cells.length}, ${c.id}`);
    // The cell script takes its scenarios relative to the repository root.
    const r = await execa('node', [CELL_SCRIPTS[0]!, c.qemu, c.image, c.machine, c.shard, relative(PACKAGE_ROOT, resolve(c.scenarios))], {
      cwd: PACKAGE_ROOT,
      stdio: 'inherit',
      reject: false,
    });
    if (r.exitCode !== 0) failed++;
  }
  const page = await execa('node', [CELL_SCRIPTS[1]!, reports], { cwd: PACKAGE_ROOT, stdio: 'inherit', reject: false });
  console.error(
    `matrix: ${cells.length - failed} of ${cells.length} cells passed; the page is ${relative(process.cwd(), join(reports, 'matrix.html'))}`,
  );
  return failed || page.exitCode !== 0 ? 1 : 0;
}

async function matrix(opts: MatrixOptions): Promise<number> {
  const path = opts.config ?? (existsSync(MATRIX_CONFIG) ? MATRIX_CONFIG : undefined);
  // The default configuration's scenarios/ must be here: scenarioFiles says how to name them if not.
  if (!path) scenarioFiles([]);
  const shown = path ?? 'the default matrix';
  let text: string;
  try {
    text = path ? readFileSync(path, 'utf8') : DEFAULT_CONFIG;
  } catch (e) {
    console.error(`${shown}: cannot read the matrix configuration: ${(e as Error).message}`);
    return 2;
  }
  const images = imageNames();
  let config;
  try {
    config = parseMatrixConfig(text, shown, {
      images,
      scenarioExists: (p) => existsSync(p),
      imageArch: (image) => (images.includes(image) ? loadRecipe(image).recipe.arch : undefined),
    });
  } catch (e) {
    if (!(e instanceof MatrixConfigError)) throw e;
    console.error(e.message);
    return 2;
  }
  const scenarios = new Map<string, ScenarioRange[]>();
  for (const r of config.runs) {
    if (scenarios.has(r.scenarios)) continue;
    const loaded = loadAll(scenarioFiles([r.scenarios]));
    if (!loaded) return 2;
    scenarios.set(
      r.scenarios,
      loaded.map((l) => ({ file: l.file, qemu: l.scenario.qemu, machines: l.scenario.machines, arches: l.scenario.arches })),
    );
  }
  let result;
  try {
    result = computeCells(config, (s) => scenarios.get(s) ?? []);
  } catch (e) {
    console.error(`${shown}: ${(e as Error).message}`);
    return 2;
  }
  const { dropped } = result;
  const cells = opts.cells ? result.cells.filter((c) => opts.cells!.test(c.id)) : result.cells;
  if (cells.length === 0) {
    console.error(formatTable(cells, dropped));
    console.error(`${shown}: no cell left to run${opts.cells ? ` (--cells ${opts.cells.source})` : ''}`);
    return 1;
  }
  if (opts.run) return runCells(cells);
  console.log(opts.json ? JSON.stringify(githubMatrix(cells)) : formatTable(cells, dropped));
  return 0;
}
