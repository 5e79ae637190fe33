import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every run directory is `<tmpdir>/nvdimm-harness-*` and names the process that owns it. */
export const RUN_DIR_PREFIX = 'nvdimm-harness-';
const OWNER = 'owner.pid';

/** The owners of a run directory, one pid a line: the harness's process, or the QEMUs of a kept run. */
export async function claimRunDir(dir: string, pids: number[] = [process.pid]): Promise<void> {
  await writeFile(join(dir, OWNER), pids.map((p) => `${p}\n`).join(''), { mode: 0o600 });
}

/**
 * Removes run directories whose owner process is gone: what a worker killed outright (SIGKILL, OOM) could
 * not clean up itself. Its QEMUs died with it (see qemu/process.ts). Directories of live runs, of other
 * users' runs, and anything not made by the harness are left alone. Synchronous, so that it can run in a
 * process's 'exit' handler too.
 */
export function sweepStaleRunDirs(base = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(base, name);
    let owners: number[];
    try {
      owners = readFileSync(join(dir, OWNER), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      continue;
    }
    if (owners.some((o) => Number.isInteger(o) && alive(o))) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, and is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped by its parent) answers signal 0 but owns nothing any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
