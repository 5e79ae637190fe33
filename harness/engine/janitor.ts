import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { procStat, signal } from './descendants.js';

/**
 * Every run directory is `<tmpdir>/nvdimm-harness-<uid>/<label>-XXXXXX`: under a parent of this user's own,
 * mode 0700, so that no other user can plant, replace or read anything in it. The parent is left in place
 * after a run (like ssh's or systemd's per-user folders): removing it when empty would race with another
 * run of the same user making its directory there at that moment.
 */
export const RUN_DIR_PARENT_PREFIX = 'nvdimm-harness-';
const OWNER = 'owner.pid';

const uid = (): number => process.getuid!();

/** The per-user parent of every run directory, whether or not it exists. */
export function runDirParent(base = tmpdir()): string {
  return join(base, `${RUN_DIR_PARENT_PREFIX}${uid()}`);
}

/** Why `path` is not a private directory of this user (a real directory, our uid, mode 0700), if it is not. */
function notPrivate(st: Stats): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== uid()) return `belongs to uid ${st.uid}, not to this user (uid ${uid()})`;
  if ((st.mode & 0o777) !== 0o700) return `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, not 0700`;
  return undefined;
}

/** Makes the per-user parent if missing; refuses one that is not this user's private directory. */
export function ensureRunDirParent(base = tmpdir()): string {
  const parent = runDirParent(base);
  try {
    mkdirSync(parent, { mode: 0o700 });
    // The umask only ever takes bits away; set exactly 0700 on the folder we just made.
    chmodSync(parent, 0o700);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new EnvironmentError(`cannot make the run folder ${parent}: ${(e as Error).message}`);
  }
  // lstat: a symbolic link planted by someone else is refused, not followed.
  const why = notPrivate(lstatSync(parent));
  if (why)
    throw new EnvironmentError(
      `refusing the run folder ${parent}: it ${why}. It must be a directory of your own with mode 0700; remove it if it is yours (rm -r ${parent}), or point TMPDIR at another folder`,
    );
  return parent;
}

/** Makes a new private run directory (`label-XXXXXX`, 0700) under the per-user parent, owned by this process. */
export async function createRunDir(label: string, base = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(ensureRunDirParent(base), `${label}-`));
  await claimRunDir(dir);
  return dir;
}

/**
 * The owners of a run directory, one pid a line: the harness's process, or the QEMUs of a kept run. Written
 * aside and renamed into place, so that a sweep never reads half a file.
 */
export async function claimRunDir(dir: string, pids: number[] = [process.pid]): Promise<void> {
  const partial = join(dir, `.${OWNER}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(partial, pids.map((p) => `${p}\n`).join(''), { mode: 0o600, flag: 'wx' });
  await rename(partial, join(dir, OWNER));
}

/**
 * Removes run directories whose owner is gone, and SIGKILLs the QEMUs still running in them: what a worker
 * killed outright (SIGKILL, OOM) could not clean up itself.
 *
 * Why the QEMUs: a QEMU started through setpriv dies with its starter, but one started untied (every guest in
 * --keep / --keep-on-failure mode, since which are kept is known only at the end; or any guest when setpriv
 * is missing) outlives it. Such a QEMU is found by its command line, which names its run directory (its QMP
 * socket is there), rather than by a list of pids written after it started: no window in which a QEMU runs
 * unrecorded, and a reused pid is never taken for it (the process must be ours, name qemu-system and this
 * directory). Kept guests are spared because `ScenarioRun.keep` hands the directory over to their pids:
 * while one of them lives, the directory's owner is alive and nothing in it is touched.
 *
 * Only this user's private directories (lstat: real directories, our uid, mode 0700) under our own 0700
 * parent are considered; an empty, unreadable or malformed owner file counts as alive. Synchronous, so that
 * it can run in a process's 'exit' handler too, and it never throws: each entry's failure is its own.
 */
export function sweepStaleRunDirs(base = tmpdir()): string[] {
  const removed: string[] = [];
  try {
    const parent = runDirParent(base);
    if (notPrivate(lstatSync(parent))) return removed;
    let qemus: { pid: number; args: string[] }[] | undefined;
    for (const name of readdirSync(parent)) {
      try {
        const dir = join(parent, name);
        if (notPrivate(lstatSync(dir))) continue;
        const owners = readOwners(dir);
        if (!owners || owners.some(alive)) continue;
        qemus ??= ourQemus();
        signal(
          qemus.filter((q) => q.args.some((a) => namesDir(a, dir))).map((q) => q.pid),
          'SIGKILL',
        );
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      } catch {
        // Left for the next sweep.
      }
    }
  } catch {
    // No parent, or not ours: nothing of ours to sweep.
  }
  return removed;
}

/** The pids in a run directory's owner file; undefined when it cannot be read or says nothing clear. */
function readOwners(dir: string): number[] | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, OWNER), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter(Boolean);
  if (lines.length === 0 || !lines.every((l) => /^[1-9]\d*$/.test(l))) return undefined;
  return lines.map(Number);
}

/** An argument naming a path inside `dir`, as is or with QEMU's doubled commas. */
function namesDir(arg: string, dir: string): boolean {
  return arg.includes(`${dir}/`) || arg.includes(`${dir.replaceAll(',', ',,')}/`);
}

/** This user's processes with an argument naming a qemu-system binary, from /proc. */
function ourQemus(): { pid: number; args: string[] }[] {
  const found: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}`).uid !== uid()) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => basename(a).startsWith('qemu-system'))) found.push({ pid: Number(entry), args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, and is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped by its parent) answers signal 0 but owns nothing any more.
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}
