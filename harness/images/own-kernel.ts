/**
 * A kernel you built, booted with a recipe's Debian userland: `--kernel PATH [--modules DIR]`, or a
 * recipe's `kernel: { path, modules }`. Its drivers come from DIR (what `make modules_install
 * INSTALL_MOD_PATH=DIR` wrote) or are built in, as its modules.builtin says.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { KernelParts } from './build.js';
import { hasPvhEntry, isBzImage, isElf64, kernelRelease, vmlinuxFromBzImage } from './kernel.js';
import type { ModuleTree } from './modules.js';

export interface OwnKernel {
  /** A bzImage (arch/x86/boot/bzImage) or a vmlinux. */
  path: string;
  /** INSTALL_MOD_PATH of `make modules_install`: the modules are in DIR/lib/modules/RELEASE. */
  modules?: string;
}

/** How far up from the kernel file its build tree's root may be: arch/x86/boot/bzImage is three folders down. */
const TREE_DEPTH = 3;

/** The kernel's release, what its image's cache key covers, and (on a cache miss) its parts. */
export async function ownKernel(own: OwnKernel): Promise<{ version: string; fingerprint: string; parts(): Promise<KernelParts> }> {
  if (!existsSync(own.path)) throw new EnvironmentError(`kernel ${own.path} does not exist`);
  const file = await readFile(own.path);
  const bzImage = isBzImage(file);
  if (!bzImage && !isElf64(file))
    throw new EnvironmentError(
      `${own.path} is neither an x86 bzImage nor a 64-bit ELF vmlinux (a kernel build writes arch/x86/boot/bzImage and vmlinux)`,
    );
  const version = kernelRelease(file);
  if (!version) throw new EnvironmentError(`${own.path} holds no kernel release string`);
  const modules = moduleTree(own, version);
  // The kernel by its content; the modules by each file's size and modification time, which a rebuild
  // changes: hashing every module's content would take seconds on each run.
  const fingerprint = createHash('sha256')
    .update(file)
    .update(
      JSON.stringify([
        modules.builtin && existsSync(modules.builtin) ? await readFile(modules.builtin, 'utf8') : null,
        listing(modules.dir),
      ]),
    )
    .digest('hex');
  return {
    version,
    fingerprint,
    parts: async () => ({ boot: await bootFile(own.path, file, bzImage), version, modules, stripSignatures: false, packages: {} }),
  };
}

function moduleTree(own: OwnKernel, version: string): ModuleTree {
  if (own.modules) {
    const base = join(own.modules, 'lib/modules');
    const dir = join(base, version);
    if (!existsSync(dir)) {
      const has = existsSync(base) ? `it has ${readdirSync(base).join(', ') || 'no release'} there` : 'it has no lib/modules';
      throw new EnvironmentError(
        `${own.modules} has no lib/modules/${version} for kernel ${version} (${has}); install the modules with make modules_install INSTALL_MOD_PATH=${own.modules}`,
      );
    }
    return { dir, builtin: join(dir, 'modules.builtin') };
  }
  // Without a modules folder every driver the image needs must be built in: the build tree says which are.
  for (let d = dirname(own.path), up = 0; up <= TREE_DEPTH; d = dirname(d), up++) {
    if (existsSync(join(d, 'modules.builtin'))) return { builtin: join(d, 'modules.builtin') };
  }
  throw new EnvironmentError(
    `cannot tell which drivers ${own.path} has built in: no modules.builtin in its build tree; give --modules DIR after make modules_install INSTALL_MOD_PATH=DIR`,
  );
}

function listing(dir: string | undefined): [string, number, number][] {
  if (!dir) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
    const st = statSync(join(dir, f));
    return [f, st.size, st.mtimeMs];
  });
}

async function bootFile(path: string, file: Buffer, bzImage: boolean): Promise<KernelParts['boot']> {
  if (!bzImage) {
    if (!hasPvhEntry(file))
      throw new EnvironmentError(
        `${path} has no PVH entry point (CONFIG_PVH is off), so QEMU cannot boot it; give its arch/x86/boot/bzImage`,
      );
    return { file: 'vmlinux', data: file };
  }
  // Its uncompressed vmlinux, booted through PVH, skips the decompression that is most of a TCG boot's
  // kernel start-up; a bzImage compressed another way, or without PVH, boots as it is.
  const vmlinux = await vmlinuxFromBzImage(file).catch(() => undefined);
  return vmlinux && hasPvhEntry(vmlinux) ? { file: 'vmlinux', data: vmlinux } : { file: 'bzImage', data: file };
}
