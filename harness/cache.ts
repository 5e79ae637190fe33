import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from './errors.js';
import { SETTINGS, setting } from './settings.js';

/**
 * A path in the cache. Each cache under its root (QEMU builds, guest images, KVM verdicts, Debian's package
 * lists) is read and written only by its owner module: qemu/binary.ts, images/build.ts, qemu/kvm.ts,
 * debian/apt.ts. The root is checked before any path in it is handed out (see `trustedCacheRoot`).
 */
export function cacheDir(...parts: string[]): string {
  return join(trustedCacheRoot(setting('cache')), ...parts);
}

/** Roots already checked, and what they resolved to: the check is made once per process. */
const trusted = new Map<string, string>();

/**
 * The cache holds QEMU binaries the harness runs and images it boots, and an entry counts as built once its
 * manifest.json exists: whoever can write the root can make the harness run their code. So the root must be
 * this user's and not writable by group or others; it is made with mode 0700 when missing. A symbolic link
 * as the root is followed once, and the directory it names is both checked and used from then on, so a link
 * swapped later changes nothing. (Its ancestors are not checked.)
 */
export function trustedCacheRoot(root: string): string {
  const known = trusted.get(root);
  if (known) return known;
  try {
    if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new EnvironmentError(`cannot make the cache ${root}: ${(e as Error).message}; choose another with ${SETTINGS.cache.env}=DIR`);
  }
  const real = realpathSync(root);
  const st = statSync(real);
  const named = real === root ? root : `${root} (${real})`;
  const uid = process.getuid!();
  const why = !st.isDirectory()
    ? `is not a directory`
    : st.uid !== uid
      ? `belongs to uid ${st.uid}, not to this user (uid ${uid})`
      : st.mode & 0o022
        ? `is writable by ${st.mode & 0o020 ? (st.mode & 0o002 ? 'group and others' : 'group') : 'others'} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`
        : undefined;
  if (why) {
    const fix =
      st.isDirectory() && st.uid === uid
        ? `run chmod go-w ${real}, or choose a cache of your own with ${SETTINGS.cache.env}=DIR`
        : `choose a cache of your own with ${SETTINGS.cache.env}=DIR`;
    throw new EnvironmentError(
      `refusing the cache ${named}: it ${why}, so someone else could put the QEMU and guest images the harness runs there; ${fix}`,
    );
  }
  trusted.set(root, real);
  return real;
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

/**
 * Two builds made at once, each waiting on the network part of the time. Both have finished before it
 * settles, so a failure of one never leaves the other writing into a work folder that is being removed.
 */
export async function bothBuilt<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}
