/**
 * Guest image recipes: the list of images is the `images/*.json` files, and each is validated like every
 * other input, with file:line:column errors.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { EnvironmentError } from '../errors.js';
import { PACKAGE_ROOT } from '../root.js';
import { parseYaml } from '../scenario/yaml.js';
import { ARCH_NAMES, type Arch } from '../arch.js';

export const IMAGES_DIR = join(PACKAGE_ROOT, 'images');
export const DEFAULT_IMAGE = 'debian-bookworm';

/** The image used for an architecture when none is chosen: bookworm's, named with the arch past amd64. */
export function defaultImage(arch: Arch): string {
  return arch === 'amd64' ? DEFAULT_IMAGE : `${DEFAULT_IMAGE}-${arch}`;
}

/** An image name: what `images/NAME.json` is called, and nothing that could leave that folder. */
const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name');
const treePath = z.string().regex(/^(?!\/)(?!.*\.\.)[\w./+-]+$/, 'expected a path inside the unpacked packages, without / or ..');

const recipeSchema = z.strictObject({
  $comment: z.string().optional(),
  suite: z.string().regex(/^[a-z]+(-[a-z]+)?$/, 'expected a Debian suite such as bookworm'),
  arch: z.enum(ARCH_NAMES).default('amd64').meta({ description: "Debian architecture of the guest's kernel and packages" }),
  kernel: z.union([
    packageName.meta({ description: 'the kernel meta-package, e.g. linux-image-amd64' }),
    z
      .strictObject({
        path: z.string().min(1).meta({ description: "a bzImage or vmlinux you built; relative paths from the recipe's folder" }),
        modules: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'INSTALL_MOD_PATH of its make modules_install; none if its drivers are built in' }),
      })
      .meta({ description: "a kernel you built, booted with this recipe's Debian userland" }),
  ]),
  packages: z.array(packageName).min(1),
  binaries: z.array(treePath).min(1).meta({ description: 'binaries copied with their libraries; they replace busybox applets' }),
  links: z
    .record(
      treePath,
      z.string().regex(/^(\/[\w.+-]+)*\/?[\w.+-]+$/, 'expected a file name in the same folder, or an absolute path in the image'),
    )
    .default({})
    .meta({
      description:
        "symlinks to a binary, by the names busybox has no applet for (its shell runs its own applet for a bare mke2fs, but not for mkfs.ext4), in a folder on the SSH session's PATH",
    }),
  modules: z.array(z.string().regex(/^[a-z0-9_-]+$/, 'expected a module name')).min(1),
  onDemand: z
    .array(z.string().regex(/^[a-z0-9_-]+$/, 'expected a module name'))
    .default([])
    .meta({
      description:
        'loaded only when the kernel asks for them (its request_module: fs-ext4 on `mount -t ext4`, crypto-crc32c), by the names in their modinfo aliases; not at boot',
    }),
  cxlModules: z
    .array(z.string().regex(/^[a-z0-9_-]+$/, 'expected a module name'))
    .default([])
    .meta({ description: 'loaded by init only when QEMU made a CXL root (ACPI0017): they cost boot time elsewhere' }),
});

export type Recipe = z.output<typeof recipeSchema>;

/**
 * Where recipes are found: the current project's own images/ folder first, so that a repository using the
 * harness can add images or replace one by name, then the harness's.
 */
function recipeDirs(): string[] {
  const own = resolve('images');
  return own !== IMAGES_DIR && existsSync(own) ? [own, IMAGES_DIR] : [IMAGES_DIR];
}

export function imageNames(): string[] {
  const names = recipeDirs().flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.json') && IMAGE_NAME.test(f.slice(0, -5))));
  return [...new Set(names.map((f) => f.slice(0, -5)))].sort();
}

export interface LoadedRecipe {
  path: string;
  /** The file's text: what the image's cache key hashes. */
  text: string;
  recipe: Recipe;
}

export function loadRecipe(name: string): LoadedRecipe {
  const names = imageNames();
  if (!names.includes(name)) throw new EnvironmentError(`unknown guest image "${name}"; choose ${names.join(', ')}`);
  const path = recipeDirs()
    .map((dir) => join(dir, `${name}.json`))
    .find((p) => existsSync(p))!;
  const text = readFileSync(path, 'utf8');
  // JSON is YAML: the same parser gives positions for every problem.
  return { path, text, recipe: parseYaml(text, path, recipeSchema) };
}
