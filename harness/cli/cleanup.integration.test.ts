/**
 * Nothing of a run is left behind, however it ends: each test runs the real CLI on a real scenario with a
 * private TMPDIR, ends it one way, and then looks for QEMU processes, files under that TMPDIR and run
 * directories in its per-user parent.
 */
import { lstat, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDirParent } from '../engine/janitor.js';

const CLI = join(import.meta.dirname, '../../bin/nvdimm-harness.js');
let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nvh-cleanup-test-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Processes whose command line mentions this test's TMPDIR: the QEMUs of the run under test. */
async function qemusOf(dir: string): Promise<{ pid: number; ppid: number }[]> {
  const found: { pid: number; ppid: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('qemu-system') || !cmdline.includes(dir)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    found.push({ pid: Number(entry), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) });
  }
  return found;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function startRun(scenario = 'scenarios/basic.yaml', ...flags: string[]) {
  return execa('node', [CLI, 'run', scenario, ...flags], {
    cwd: join(import.meta.dirname, '../..'),
    env: { TMPDIR: tmp, NVDIMM_HARNESS_ARTIFACTS: join(tmp, 'artifacts'), FORCE_COLOR: '0' },
    reject: false,
  });
}

/**
 * QEMUs of the run still running, files left in TMPDIR, and run directories left in the per-user parent.
 * The parent itself (`nvdimm-harness-<uid>`, 0700) stays on purpose: removing it when empty would race with
 * another run making its directory in it (see engine/janitor.ts). It must be empty and still private.
 */
async function leftovers(): Promise<{ qemus: number; files: string[]; runDirs: string[] }> {
  // QEMU may take a moment to be reaped after its parent goes.
  await until('QEMU processes to go', async () => ((await qemusOf(tmp)).length === 0 ? true : undefined), 5_000).catch(() => undefined);
  const parent = runDirParent(tmp);
  // tsx-*: the TypeScript loader's compile cache, kept on purpose and not the run's.
  const files = (await readdir(tmp)).filter((f) => f !== 'artifacts' && !f.startsWith('tsx-') && join(tmp, f) !== parent);
  const parentStat = await lstat(parent).catch(() => undefined);
  if (parentStat) expect(parentStat.isDirectory() && (parentStat.mode & 0o777).toString(8)).toBe('700');
  const runDirs = parentStat ? await readdir(parent) : [];
  return { qemus: (await qemusOf(tmp)).length, files, runDirs };
}

describe('a run leaves no QEMU process and no temporary file', { timeout: 180_000 }, () => {
  it('after passing', async () => {
    const result = await startRun();
    expect(result.exitCode, `${result.stdout}${result.stderr}`).toBe(0);
    expect(await leftovers()).toEqual({ qemus: 0, files: [], runDirs: [] });
  });

  it('after a failing step, keeping the logs, the backend files and a command line against them as artifacts', async () => {
    const scenarioDir = await mkdtemp(join(tmpdir(), 'nvh-cleanup-scenario-'));
    try {
      const broken = (await readFile(join(import.meta.dirname, '../../scenarios/basic.yaml'), 'utf8')).replace(
        'size: 1G - 128K',
        'size: 1G - 256K',
      );
      await writeFile(join(scenarioDir, 'broken.yaml'), broken);
      const result = await startRun(join(scenarioDir, 'broken.yaml'));
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(/expected .*1073479680.*got .*1073610752/);
      // The guests' kernel logs: their last lines in the report, the whole in the artifacts.
      // The whole report comes once, in the summary (stderr); under the step, its first line.
      expect(result.stderr).toMatch(/last \d+ lines of label's kernel log \(dmesg\):\n(  \| .*\n)*  \| .*Run \/init as init process/);
      expect(result.stdout).not.toMatch(/kernel log/);
      expect(await leftovers()).toEqual({ qemus: 0, files: [], runDirs: [] });
      const [kept] = await readdir(join(tmp, 'artifacts'));
      const keptDir = join(tmp, 'artifacts', kept!);
      expect((await readdir(keptDir)).sort()).toEqual([
        'label.cmdline',
        'label.dmesg.log',
        'label.qmp.log',
        'label.rerun',
        'label.serial.log',
        'labelled.img',
        'nolabel.cmdline',
        'nolabel.dmesg.log',
        'nolabel.qmp.log',
        'nolabel.rerun',
        'nolabel.serial.log',
        'plain.img',
      ]);
      // The backend files are kept sparse, at their size, and the rerun command uses them, not the deleted run folder.
      const copy = await stat(join(keptDir, 'plain.img'));
      expect(copy.size).toBe(2 ** 30);
      expect(copy.blocks * 512).toBeLessThan(64 * 2 ** 20);
      const rerun = await readFile(join(keptDir, 'nolabel.rerun'), 'utf8');
      expect(rerun).toContain(`mem-path=${keptDir}/plain.img`);
      expect(rerun).not.toMatch(/run-[A-Za-z0-9]{6}/);
    } finally {
      await rm(scenarioDir, { recursive: true, force: true });
    }
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`after ${signal} to the harness while guests boot`, async () => {
      const run = startRun();
      await until('a QEMU of the run', async () => ((await qemusOf(tmp)).length > 0 ? true : undefined));
      run.kill(signal);
      const result = await run;
      expect(result.exitCode, `${result.stdout}${result.stderr}`).toBe(code);
      expect(await leftovers()).toEqual({ qemus: 0, files: [], runDirs: [] });
    });
  }

  it('after the vitest worker running the scenario is killed with SIGKILL', async () => {
    const run = startRun();
    const [qemu] = await until('a QEMU of the run', async () => {
      const q = await qemusOf(tmp);
      return q.length > 0 ? q : undefined;
    });
    // QEMU's parent is the worker (setpriv execs QEMU in place).
    process.kill(qemu!.ppid, 'SIGKILL');
    const result = await run;
    expect(result.exitCode).not.toBe(0);
    // vitest, crashing on the lost worker, leaves its own SSR cache folder in TMPDIR: only the harness's run
    // directories are checked.
    const { qemus, runDirs } = await leftovers();
    expect({ qemus, runDirs }).toEqual({ qemus: 0, runDirs: [] });
  });

  it('after the worker is killed with SIGKILL in --keep-on-failure mode, where QEMU is started untied', async () => {
    const run = startRun('scenarios/basic.yaml', '--keep-on-failure');
    const [qemu] = await until('a QEMU of the run', async () => {
      const q = await qemusOf(tmp);
      return q.length > 0 ? q : undefined;
    });
    // No guest was kept: the sweep in the harness's exit listener kills the QEMUs of the dead worker's run.
    process.kill(qemu!.ppid, 'SIGKILL');
    const result = await run;
    expect(result.exitCode).not.toBe(0);
    const { qemus, runDirs } = await leftovers();
    expect({ qemus, runDirs }).toEqual({ qemus: 0, runDirs: [] });
  });
});
