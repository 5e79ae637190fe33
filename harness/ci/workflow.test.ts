/**
 * ci/nightly.yml is a valid GitHub Actions workflow, and it runs what a local run runs: its cells come from
 * `nvdimm-harness matrix --json`, and each cell job runs ci/run-cell.mjs with the cell's values.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { execa } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { computeCells, parseMatrixConfig } from './matrix.js';

const ROOT = join(import.meta.dirname, '../..');
const SOURCE = readFileSync(join(ROOT, 'ci/nightly.yml'), 'utf8');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  'runs-on': string;
  'timeout-minutes'?: number;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: unknown };
  env?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(SOURCE) as { on: Record<string, unknown>; jobs: Record<string, Job>; defaults?: { run?: { shell?: string } } };
const { matrix, cell, mutate, report } = workflow.jobs as { matrix: Job; cell: Job; mutate: Job; report: Job };

describe('ci/nightly.yml', () => {
  it('is valid against the GitHub workflow schema', () => {
    const state = validateWorkflow(SOURCE);
    expect(state.errors, JSON.stringify(state.errors, null, 2)).toEqual([]);
  });

  it('would be reported by the validator if it were not', () => {
    const broken = SOURCE.replace(
      '    runs-on: ubuntu-24.04\n    timeout-minutes: 60',
      '    runs_on: ubuntu-24.04\n    timeout-minutes: 60',
    );
    expect(broken).not.toBe(SOURCE);
    expect(validateWorkflow(broken).errors).not.toEqual([]);
  });

  it('runs nightly and on demand', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
  });

  it('takes its cells from `nvdimm-harness matrix --json`, through the matrix job output', () => {
    const [, stepId, output] = /^\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(matrix.outputs?.cells ?? '') ?? [];
    const step = matrix.steps.find((s) => s.id === stepId);
    expect(step?.run).toContain('node bin/nvdimm-harness.js matrix --json');
    expect(step?.run).toContain(`echo "${output}=$`);
    expect(step?.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(cell.needs).toBe('matrix');
    expect(cell.strategy).toEqual({ 'fail-fast': false, matrix: '${{ fromJSON(needs.matrix.outputs.cells) }}' });
  });

  it('runs ci/run-cell.mjs with the cell, as a local run does', () => {
    const runs = cell.steps.filter((s) => s.run?.includes('run-cell.mjs'));
    expect(runs).toHaveLength(1);
    const [step] = runs;
    expect(step!.run).toBe('node ci/run-cell.mjs "$QEMU" "$IMAGE" "$MACHINE" "$SHARD" "$SCENARIOS"');
    expect(step!.env).toEqual({
      QEMU: '${{ matrix.qemu }}',
      IMAGE: '${{ matrix.image }}',
      MACHINE: '${{ matrix.machine }}',
      SHARD: '${{ matrix.shard }}',
      SCENARIOS: '${{ matrix.scenarios }}',
    });
    // Each argument lands in the script's variable of the same name: qemu = args[0], image = args[1], ...
    const script = readFileSync(join(ROOT, 'ci/run-cell.mjs'), 'utf8');
    const positions = Object.fromEntries(
      [...script.matchAll(/^const (\w+) = args\[(\d)\]/gm)].map(([, name, i]) => [name!, Number(i) + 1]),
    );
    expect(positions).toEqual({ qemu: 1, image: 2, machine: 3, shard: 4, scenarios: 5 });
    const args = [...step!.run!.matchAll(/"\$(\w+)"/g)].map(([, v]) => v!);
    for (const [name, n] of Object.entries(positions)) expect(step!.env![args[n - 1]!]).toBe(`\${{ matrix.${name} }}`);
    // Nothing else runs the harness.
    expect(cell.steps.filter((s) => s.run?.includes('nvdimm-harness'))).toEqual([]);
    accessSync(join(ROOT, 'ci/run-cell.mjs'), constants.X_OK);
  });

  it('reads only keys a cell of `nvdimm-harness matrix --json` has', () => {
    const config = parseMatrixConfig(readFileSync(join(ROOT, 'ci/matrix.yaml'), 'utf8'), 'ci/matrix.yaml');
    const { cells } = computeCells(config, () => [
      { file: 'a.yaml', qemu: '*', machines: ['pc', 'q35', 'virt'], arches: ['amd64', 'arm64'] },
    ]);
    // `matrix.KEY` inside the workflow's expressions (not `needs.matrix.outputs`, the job named matrix).
    const expressions = [...SOURCE.matchAll(/\$\{\{(.*?)\}\}/g)].map(([, e]) => e!);
    const used = new Set(expressions.flatMap((e) => [...e.matchAll(/(?<![.\w])matrix\.(\w+)/g)].map(([, key]) => key!)));
    expect(used).toContain('machine');
    for (const c of cells) expect(Object.keys(c)).toEqual(expect.arrayContaining([...used]));
  });

  it('uploads the files run-cell.mjs writes: the report always, the logs on failure', () => {
    const uploads = cell.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(uploads.map((u) => [u.uses, u.if, u.with?.path])).toEqual([
      ['actions/upload-artifact@v4', 'always()', 'reports/junit-${{ matrix.id }}.xml'],
      ['actions/upload-artifact@v4', 'failure()', 'artifacts/${{ matrix.id }}/'],
    ]);
    const script = readFileSync(join(ROOT, 'ci/run-cell.mjs'), 'utf8');
    // ${out} is empty unless NVDIMM_HARNESS_CELL_OUTPUT is set, which the workflow does not set.
    expect(script).toContain('const report = `${out}reports/junit-${cell}.xml`;');
    expect(script).toContain('const artifacts = `${out}artifacts/${cell}`;');
    expect(script).toContain('NVDIMM_HARNESS_ARTIFACTS: artifacts');
    expect(SOURCE).not.toContain('NVDIMM_HARNESS_CELL_OUTPUT');
  });

  it('sets up a Debian mirror, the keyring and the cache an Ubuntu runner needs, within an hour', () => {
    expect(cell['runs-on']).toBe('ubuntu-24.04');
    expect(cell['timeout-minutes']).toBeLessThanOrEqual(60);
    // No mirror is named here: the repository variable, else the job stops at the check below.
    for (const job of [cell, mutate]) {
      expect(job.env?.NVDIMM_HARNESS_DEBIAN_MIRROR).toBe('${{ vars.DEBIAN_MIRROR }}');
      const steps = job.steps.map((s) => s.run ?? s.uses ?? '');
      const check = steps.indexOf('node ci/check-mirror.mjs');
      expect(check).toBeGreaterThan(steps.findIndex((s) => s.startsWith('npm ci')));
      expect(check).toBeLessThan(steps.findIndex((s) => s.startsWith('actions/cache@')));
    }
    expect(cell.steps.some((s) => s.run?.includes('apt-get install -y --no-install-recommends debian-archive-keyring xz-utils zstd'))).toBe(
      true,
    );
    const cache = cell.steps.find((s) => s.uses?.startsWith('actions/cache@'));
    expect(cache?.with?.path).toBe('~/.cache/nvdimm-harness');
    expect(cache?.with?.key).toMatch(
      /\$\{\{ matrix\.qemu \}\}.*\$\{\{ matrix\.image \}\}.*hashFiles\('images\/\*\*', 'harness\/images\/\*\*', 'harness\/debian\/\*\*'\)/,
    );
    for (const job of [matrix, cell]) {
      const node = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(node?.with).toEqual({ 'node-version': 20, cache: 'npm' });
      expect(job.steps.some((s) => s.run?.startsWith('npm ci'))).toBe(true);
    }
  });

  it('fails at once without a Debian mirror, naming the repository variable to set', async () => {
    const aptEtc = await mkdtemp(join(tmpdir(), 'nvh-apt-'));
    try {
      await mkdir(join(aptEtc, 'sources.list.d'));
      await writeFile(
        join(aptEtc, 'sources.list.d/ubuntu.sources'),
        'Types: deb\nURIs: http://ubuntu-mirror.example/ubuntu\nSuites: noble\n',
      );
      const check = (mirror: string) =>
        execa('node', [join(ROOT, 'ci/check-mirror.mjs'), aptEtc], { reject: false, env: { NVDIMM_HARNESS_DEBIAN_MIRROR: mirror } });
      // An unset repository variable is an empty string in the workflow's env.
      const unset = await check('');
      expect(unset.exitCode).toBe(1);
      expect(unset.stderr).toMatch(/^::error::No Debian mirror: set the repository variable DEBIAN_MIRROR /);
      const set = await check('http://mirror.example/debian');
      expect([set.exitCode, set.stdout]).toEqual([0, 'Debian mirror: http://mirror.example/debian']);
    } finally {
      await rm(aptEtc, { recursive: true, force: true });
    }
  });

  it("ends with the page of every cell's report, compared with the night before, as `node ci/report.mjs` makes it locally", () => {
    expect(report.needs).toEqual(['matrix', 'cell']);
    // Whatever the cells' verdicts: a red matrix is what the page is for.
    expect(report.if).toContain('!cancelled()');
    const uses = (prefix: string) => report.steps.find((s) => s.uses?.startsWith(prefix));
    expect(uses('actions/download-artifact@')?.with).toEqual({ pattern: 'junit-*', path: 'reports', 'merge-multiple': true });
    const restore = uses('actions/cache/restore@');
    const save = uses('actions/cache/save@');
    // ci/report.mjs reads the previous summary from, and leaves tonight's in, reports/previous/matrix.json.
    expect(restore?.with?.path).toBe('reports/previous/matrix.json');
    expect(save?.with?.path).toBe(restore?.with?.path);
    expect(restore?.with?.['restore-keys']).toBe('nvdimm-harness-matrix-summary-');
    expect(save?.with?.key).toBe(restore?.with?.key);
    expect(String(save?.with?.key)).toMatch(/^nvdimm-harness-matrix-summary-\$\{\{ github\.run_id \}\}$/);
    const steps = report.steps.map((s) => s.run ?? s.uses ?? '');
    expect(steps.indexOf('node ci/report.mjs reports')).toBeGreaterThan(steps.indexOf(restore!.uses!));
    expect(steps.indexOf('node ci/report.mjs reports')).toBeLessThan(steps.indexOf(save!.uses!));
    const upload = uses('actions/upload-artifact@');
    expect(upload?.if).toBe('always()');
    expect(String(upload?.with?.path).trim().split('\n')).toEqual(['reports/matrix.html', 'reports/matrix.md', 'reports/matrix.json']);
    const script = readFileSync(join(ROOT, 'ci/report.mjs'), 'utf8');
    expect(script).toContain("path.join(reports, 'previous', 'matrix.json')");
    expect(script).toContain('GITHUB_STEP_SUMMARY');
  });

  it('runs the mutation checks of every scenario on the default cell, failing on a survivor', () => {
    const step = mutate.steps.find((s) => s.run?.includes(' mutate '));
    expect(step?.run).toMatch(/^node bin\/nvdimm-harness\.js mutate --qemu 7\.2 --image debian-bookworm scenarios \|/);
    // bash with pipefail (the default shell here): the tee keeps mutate's exit status.
    expect(workflow.defaults?.run?.shell).toBe('bash');
  });
});
