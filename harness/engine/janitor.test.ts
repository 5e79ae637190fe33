import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../errors.js';
import { claimRunDir, createRunDir, ensureRunDirParent, runDirParent, sweepStaleRunDirs } from './janitor.js';

/** Another user, as far as ownership goes: these tests run as root, which may chown to anyone. */
const OTHER_UID = 12345;

let base: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'nvh-janitor-test-'));
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

/** A pid that was a process a moment ago and is gone now. */
function deadPid(): number {
  return spawnSync('true').pid;
}

/** A run directory as the harness makes it, with `owner` as its owner file's text. */
function runDir(name: string, owner: string | undefined): string {
  const dir = join(ensureRunDirParent(base), name);
  mkdirSync(dir, { mode: 0o700 });
  if (owner !== undefined) writeFileSync(join(dir, 'owner.pid'), owner);
  return dir;
}

/**
 * A long-running process standing for a QEMU of `dir`: /bin/sleep under a name (in `dir`) that starts with
 * qemu-system, so its command line names both qemu and the run directory, as a real QEMU's does.
 */
function fakeQemu(dir: string, name = 'qemu-system-x86_64'): ChildProcess {
  symlinkSync('/bin/sleep', join(dir, name));
  const child = spawn(join(dir, name), ['1000'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.signalCode)
    : new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Waits until the fake QEMU has exec'd, so that /proc shows its command line rather than node's. */
async function started(child: ChildProcess): Promise<void> {
  await new Promise((resolve) => child.once('spawn', resolve));
}

describe('the per-user parent of run directories', () => {
  it('is made with mode 0700 and owned by this user, under TMPDIR', async () => {
    const dir = await createRunDir('run', base);
    const parent = runDirParent(base);
    expect(parent).toBe(join(base, `nvdimm-harness-${process.getuid!()}`));
    expect(dir.startsWith(`${parent}/run-`)).toBe(true);
    for (const d of [parent, dir]) {
      const st = statSync(d);
      expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([process.getuid!(), '700']);
    }
    expect(readFileSync(join(dir, 'owner.pid'), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('is refused when another user made it first', () => {
    const parent = runDirParent(base);
    mkdirSync(parent, { mode: 0o700 });
    chownSync(parent, OTHER_UID, OTHER_UID);
    expect(() => ensureRunDirParent(base)).toThrow(EnvironmentError);
    expect(() => ensureRunDirParent(base)).toThrow(/belongs to uid 12345/);
  });

  it('is refused with a mode other than 0700', () => {
    const parent = runDirParent(base);
    mkdirSync(parent);
    chmodSync(parent, 0o777);
    expect(() => ensureRunDirParent(base)).toThrow(/has mode 0777, not 0700/);
    chmodSync(parent, 0o755);
    expect(() => ensureRunDirParent(base)).toThrow(/has mode 0755, not 0700/);
  });

  it('is refused when it is a symbolic link, even to a private directory of this user', async () => {
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, runDirParent(base));
    await expect(createRunDir('run', base)).rejects.toThrow(/is a symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('is refused when it is a file', () => {
    writeFileSync(runDirParent(base), '');
    expect(() => ensureRunDirParent(base)).toThrow(/is not a directory/);
  });
});

describe('claimRunDir', () => {
  it('replaces the owner file whole, leaving no temporary file', async () => {
    const dir = await createRunDir('run', base);
    await claimRunDir(dir, [11, 22]);
    expect(readdirSync(dir)).toEqual(['owner.pid']);
    expect(readFileSync(join(dir, 'owner.pid'), 'utf8')).toBe('11\n22\n');
  });
});

describe('sweepStaleRunDirs', () => {
  it('removes a run directory whose owner is dead, and keeps one whose owner lives', () => {
    const dead = runDir('run-dead', `${deadPid()}\n`);
    const live = runDir('run-live', `${process.pid}\n`);
    expect(sweepStaleRunDirs(base)).toEqual([dead]);
    expect([existsSync(dead), existsSync(live)]).toEqual([false, true]);
  });

  it('keeps a run directory whose owner file is empty, missing or malformed', () => {
    const dirs = [runDir('run-empty', ''), runDir('run-missing', undefined), runDir('run-junk', `${deadPid()}\nnot a pid\n`)];
    expect(sweepStaleRunDirs(base)).toEqual([]);
    expect(dirs.map(existsSync)).toEqual([true, true, true]);
  });

  it("keeps another user's directory, a directory not 0700 and a symbolic link, whatever their owner file says", () => {
    const owner = `${deadPid()}\n`;
    const theirs = runDir('run-theirs', owner);
    chownSync(theirs, OTHER_UID, OTHER_UID);
    const open = runDir('run-open', owner);
    chmodSync(open, 0o755);
    const target = mkdtempSync(join(base, 'target-'));
    writeFileSync(join(target, 'owner.pid'), owner);
    symlinkSync(target, join(runDirParent(base), 'run-link'));
    expect(sweepStaleRunDirs(base)).toEqual([]);
    expect([theirs, open, join(runDirParent(base), 'run-link'), join(target, 'owner.pid')].map(existsSync)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('sweeps nothing, and does not throw, when the parent is not a private directory of this user', () => {
    const parent = runDirParent(base);
    const dir = runDir('run-dead', `${deadPid()}\n`);
    chownSync(parent, OTHER_UID, OTHER_UID);
    expect(sweepStaleRunDirs(base)).toEqual([]);
    chownSync(parent, process.getuid!(), process.getgid!());
    chmodSync(parent, 0o777);
    expect(sweepStaleRunDirs(base)).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });

  it('does not throw when there is no parent, or it is a symbolic link to a folder of stale directories', () => {
    expect(sweepStaleRunDirs(join(base, 'missing'))).toEqual([]);
    const elsewhere = mkdtempSync(join(base, 'elsewhere-'));
    chmodSync(elsewhere, 0o700);
    mkdirSync(join(elsewhere, 'run-dead'), { mode: 0o700 });
    writeFileSync(join(elsewhere, 'run-dead', 'owner.pid'), `${deadPid()}\n`);
    symlinkSync(elsewhere, runDirParent(base));
    expect(sweepStaleRunDirs(base)).toEqual([]);
    expect(existsSync(join(elsewhere, 'run-dead'))).toBe(true);
  });

  it('SIGKILLs the QEMUs still running in a directory whose owner is dead, and no other process', async () => {
    const stale = runDir('run-stale', `${deadPid()}\n`);
    const orphan = fakeQemu(stale);
    // Names the stale directory but is no QEMU: a pid reused by something else.
    const other = fakeQemu(stale, 'not-qemu');
    // A QEMU of a live run, and a QEMU of a directory whose name the stale one's is a prefix of.
    const live = fakeQemu(runDir('run-live', `${process.pid}\n`));
    const similar = fakeQemu(runDir('run-stale2', `${process.pid}\n`));
    await Promise.all([orphan, other, live, similar].map(started));
    expect(sweepStaleRunDirs(base)).toEqual([stale]);
    expect(await exited(orphan)).toBe('SIGKILL');
    expect([other, live, similar].map(running)).toEqual([true, true, true]);
  });

  it('spares kept guests: a directory handed over to its QEMUs lives while one of them does', async () => {
    const kept = runDir('run-kept', `${deadPid()}\n`);
    const qemu = fakeQemu(kept);
    await started(qemu);
    await claimRunDir(kept, [deadPid(), qemu.pid!]);
    expect(sweepStaleRunDirs(base)).toEqual([]);
    expect(running(qemu)).toBe(true);
    qemu.kill('SIGKILL');
    await exited(qemu);
    expect(sweepStaleRunDirs(base)).toEqual([kept]);
  });
});
