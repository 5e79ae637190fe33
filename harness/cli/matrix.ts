import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { imageNames } from '../images/recipe.js';
import { computeCells, formatTable, githubMatrix, MatrixConfigError, parseMatrixConfig, type ScenarioRange } from '../ci/matrix.js';
import { loadAll, ROOT, scenarioFiles } from './scenario-files.js';

const MATRIX_CONFIG = 'ci/matrix.yaml';

export function registerMatrix(program: Command): void {
  program
    .command('matrix')
    .description(
      `the CI matrix: QEMU version x guest image x machine type x shard cells, from ${MATRIX_CONFIG} and the scenarios' QEMU ranges and machines`,
    )
    .option('--json', 'print {"include": [cells]} on one line, for GitHub Actions: strategy.matrix: ${{ fromJSON(...) }}')
    .option('--config <file>', `matrix configuration (default: ${MATRIX_CONFIG}); its scenario paths are relative to the repository root`)
    .addHelpText(
      'after',
      `
Run one cell locally exactly as CI does: ci/run-cell.sh QEMU IMAGE MACHINE SHARD SCENARIOS

Exit status: 0 cells printed, 1 no cell left, 2 the configuration or a scenario file is malformed.`,
    )
    .action((opts: { json?: boolean; config?: string }) => {
      process.exitCode = matrix(opts);
    });
}

function matrix(opts: { json?: boolean; config?: string }): number {
  const path = opts.config ? resolve(opts.config) : join(ROOT, MATRIX_CONFIG);
  const shown = relative(process.cwd(), path) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    console.error(`${shown}: cannot read the matrix configuration: ${(e as Error).message}`);
    return 2;
  }
  const images = imageNames();
  let config;
  try {
    config = parseMatrixConfig(text, shown, { images, scenarioExists: (p) => existsSync(join(ROOT, p)) });
  } catch (e) {
    if (!(e instanceof MatrixConfigError)) throw e;
    console.error(e.message);
    return 2;
  }
  const scenarios = new Map<string, ScenarioRange[]>();
  for (const r of config.runs) {
    if (scenarios.has(r.scenarios)) continue;
    const loaded = loadAll(scenarioFiles([join(ROOT, r.scenarios)]));
    if (!loaded) return 2;
    scenarios.set(
      r.scenarios,
      loaded.map((l) => ({ file: l.file, qemu: l.scenario.qemu, machines: l.scenario.machines })),
    );
  }
  let result;
  try {
    result = computeCells(config, (s) => scenarios.get(s) ?? []);
  } catch (e) {
    console.error(`${shown}: ${(e as Error).message}`);
    return 2;
  }
  const { cells, dropped } = result;
  if (cells.length === 0) {
    console.error(formatTable(cells, dropped));
    console.error(`${shown}: no cell left to run`);
    return 1;
  }
  console.log(opts.json ? JSON.stringify(githubMatrix(cells)) : formatTable(cells, dropped));
  return 0;
}
