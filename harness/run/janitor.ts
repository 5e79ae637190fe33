import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every run directory is `<tmpdir>/nvdimm-harness-*` and names the process that owns it. */
export const RUN_DIR_PREFIX = 'nvdimm-harness-';
const OWNER = 'owner.pid';

export async function claimRunDir(dir: string): Promise<void> {
  await writeFile(join(dir, OWNER), String(process.pid), { mode: 0o600 });
}

/**
 * Removes run directories whose owner process is gone: what a worker killed outright (SIGKILL, OOM) could
 * not clean up itself. Its QEMUs died with it (see qemu/process.ts). Directories of live runs, of other
 * users' runs, and anything not made by the harness are left alone.
 */
export async function sweepStaleRunDirs(base = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(base, name);
    const owner = Number(await readFile(join(dir, OWNER), 'utf8').catch(() => NaN));
    if (!Number.isInteger(owner) || alive(owner)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, and is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
