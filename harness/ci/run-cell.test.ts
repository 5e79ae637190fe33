/**
 * ci/run-cell.mjs runs the documented command, with the cell's report and artifacts paths, and exits with
 * the run's status. It runs here (by this node) in a copy of the repository's layout, with zx in its
 * node_modules and a fake `node` first on PATH, which records how the harness was called: no guest boots.
 */
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellId } from './matrix.js';

const ROOT = join(import.meta.dirname, '../..');
let repo: string;

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'nvh-run-cell-test-'));
  await mkdir(join(repo, 'ci'));
  await copyFile(join(ROOT, 'ci/run-cell.mjs'), join(repo, 'ci/run-cell.mjs'));
  // A copy, not a link: the script's `import 'zx'` resolves from where the script is.
  await cp(join(ROOT, 'node_modules/zx'), join(repo, 'node_modules/zx'), { recursive: true });
  await mkdir(join(repo, 'fakebin'));
  const fake = `#!/usr/bin/env bash
{ printf '%s\\n' "$PWD" "$NVDIMM_HARNESS_ARTIFACTS" "$@"; } > "$FAKE_NODE_LOG"
exit "\${FAKE_NODE_EXIT:-0}"
`;
  await writeFile(join(repo, 'fakebin/node'), fake, { mode: 0o755 });
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

async function runCell(args: string[], exit = 0, env: Record<string, string> = {}) {
  const log = join(repo, `node-${Math.random().toString(36).slice(2)}.log`);
  // This node, by its path: the fake one on PATH only stands in for the harness run the script starts.
  const result = await execa(process.execPath, [join(repo, 'ci/run-cell.mjs'), ...args], {
    cwd: tmpdir(), // the script finds the repository from its own path
    env: { PATH: `${join(repo, 'fakebin')}:${process.env.PATH}`, FAKE_NODE_LOG: log, FAKE_NODE_EXIT: String(exit), ...env },
    reject: false,
  });
  const lines = await readFile(log, 'utf8').then(
    (t) => t.trimEnd().split('\n'),
    () => undefined,
  );
  return { exitCode: result.exitCode, stderr: result.stderr, node: lines && { cwd: lines[0], artifacts: lines[1], argv: lines.slice(2) } };
}

describe('ci/run-cell.mjs', () => {
  it('runs the cell as CI does, named as `nvdimm-harness matrix` names it', async () => {
    const id = cellId('10.0', 'debian-trixie', 'q35', '2/2');
    expect(id).toBe('qemu-10.0-debian-trixie-q35-2of2');
    const { exitCode, node } = await runCell(['10.0', 'debian-trixie', 'q35', '2/2', 'scenarios/basic.yaml']);
    expect(exitCode).toBe(0);
    expect(node).toEqual({
      cwd: repo,
      artifacts: `artifacts/${id}`,
      argv: [
        'bin/nvdimm-harness.js',
        'run',
        'scenarios/basic.yaml',
        '--qemu',
        '10.0',
        '--image',
        'debian-trixie',
        '--machine',
        'q35',
        '--shard',
        '2/2',
        '--reporter',
        'junit',
        '--output-file',
        `reports/junit-${id}.xml`,
      ],
    });
    expect((await stat(join(repo, 'reports'))).isDirectory()).toBe(true);
  });

  it('runs every scenario by default', async () => {
    const { node } = await runCell(['7.2', 'debian-bookworm', 'pc', '1/2']);
    expect(node?.argv.slice(1, 3)).toEqual(['run', 'scenarios']);
  });

  it.each(['pc', 'q35'])('takes the machine type %s, and names the report and logs after it', async (machine) => {
    const id = cellId('7.2', 'debian-bookworm', machine, '1/2');
    const { exitCode, stderr, node } = await runCell(['7.2', 'debian-bookworm', machine, '1/2']);
    expect(exitCode).toBe(0);
    expect(stderr).toContain(`cell ${id}: QEMU 7.2, image debian-bookworm, machine ${machine}, shard 1/2 of scenarios`);
    expect(node?.argv.slice(node.argv.indexOf('--machine'), node.argv.indexOf('--machine') + 2)).toEqual(['--machine', machine]);
    expect(node?.artifacts).toBe(`artifacts/${id}`);
    expect(node?.argv.at(-1)).toBe(`reports/junit-${id}.xml`);
  });

  it('writes the report and logs under NVDIMM_HARNESS_CELL_OUTPUT when it is set', async () => {
    const id = cellId('7.2', 'debian-bookworm', 'pc', '1/1');
    const out = join(repo, 'elsewhere');
    const { exitCode, node } = await runCell(['7.2', 'debian-bookworm', 'pc', '1/1'], 0, { NVDIMM_HARNESS_CELL_OUTPUT: `${out}/` });
    expect(exitCode).toBe(0);
    expect(node?.artifacts).toBe(`${out}/artifacts/${id}`);
    expect(node?.argv.at(-1)).toBe(`${out}/reports/junit-${id}.xml`);
    expect((await stat(join(out, 'reports'))).isDirectory()).toBe(true);
  });

  it.each([0, 1, 2])('exits with the run status %i', async (status) => {
    expect((await runCell(['7.2', 'debian-bookworm', 'pc', '1/1'], status)).exitCode).toBe(status);
  });

  it('starts a rerun clean, without the report and logs of the previous one', async () => {
    const id = cellId('7.2', 'debian-sid', 'pc', '1/1');
    // The same cell on the other machine type is another cell: its files stay.
    const other = cellId('7.2', 'debian-sid', 'q35', '1/1');
    await mkdir(join(repo, 'artifacts', id, 'old'), { recursive: true });
    await writeFile(join(repo, 'reports', `junit-${id}.xml`), 'old');
    await mkdir(join(repo, 'artifacts', 'other-cell'), { recursive: true });
    await mkdir(join(repo, 'artifacts', other), { recursive: true });
    await writeFile(join(repo, 'reports', `junit-${other}.xml`), 'other');
    await runCell(['7.2', 'debian-sid', 'pc', '1/1']);
    await expect(stat(join(repo, 'artifacts', id))).rejects.toThrow();
    await expect(stat(join(repo, 'reports', `junit-${id}.xml`))).rejects.toThrow();
    expect((await stat(join(repo, 'artifacts', 'other-cell'))).isDirectory()).toBe(true);
    expect((await stat(join(repo, 'artifacts', other))).isDirectory()).toBe(true);
    expect(await readFile(join(repo, 'reports', `junit-${other}.xml`), 'utf8')).toBe('other');
  });

  it.each([[[]], [['7.2', 'debian-bookworm', 'pc']], [['7.2', 'debian-bookworm', 'pc', '1/2', 'a', 'b']]])(
    'refuses the arguments %j with its usage, without running anything',
    async (args) => {
      const { exitCode, stderr, node } = await runCell(args);
      expect(exitCode).toBe(2);
      expect(stderr.split('\n')).toEqual(
        expect.arrayContaining([
          '  node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD [SCENARIOS]',
          '  node ci/run-cell.mjs 7.2 debian-bookworm q35 1/2 scenarios',
        ]),
      );
      expect(stderr).toContain('MACHINE a machine type (pc or q35; virt for arm64 guests)');
      expect(node).toBeUndefined();
    },
  );

  it('refuses a shard that is not i/n without running anything', async () => {
    const { exitCode, stderr, node } = await runCell(['7.2', 'debian-bookworm', 'pc', 'x']);
    expect(exitCode).toBe(2);
    expect(stderr).toBe('run-cell.mjs: SHARD must be i/n, e.g. 1/2, not "x"');
    expect(node).toBeUndefined();
  });

  it.each([
    // The arguments of before the machine type axis: the shard where the machine type goes.
    [['7.2', 'debian-bookworm', '1/2', 'scenarios'], '1/2'],
    [['7.2', 'debian-bookworm', 'Q35', '1/2'], 'Q35'],
    [['7.2', 'debian-bookworm', 'microvm', '1/2'], 'microvm'],
    [['7.2', 'debian-bookworm', '', '1/2'], ''],
  ])('refuses the machine type of %j in one line without running anything', async (args, machine) => {
    const { exitCode, stderr, node } = await runCell(args);
    expect(exitCode).toBe(2);
    expect(stderr).toBe(
      `run-cell.mjs: MACHINE must be pc, q35 or virt, not "${machine}" (arguments: QEMU IMAGE MACHINE SHARD [SCENARIOS])`,
    );
    expect(node).toBeUndefined();
  });
});
