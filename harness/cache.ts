import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setting } from './settings.js';

/**
 * The cache's root. Each cache under it (QEMU builds, guest images, KVM verdicts) is read and written only
 * by its owner module: qemu/binary.ts, images/build.ts, qemu/kvm.ts.
 */
export function cacheDir(...parts: string[]): string {
  return join(setting('cache'), ...parts);
}

/**
 * Moves a finished build from its work folder to its place in the cache in one rename, so a reader sees
 * either nothing or the whole thing. Another run may have published the same entry meanwhile: theirs is
 * as good as ours.
 */
export async function publish(work: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await rename(work, dest).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
  });
}
