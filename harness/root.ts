import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own folder, the nearest one above with a package.json: images/ and schema/ are there both in
 * a clone (harness/*.ts run through tsx) and in the installed package (compiled into dist/harness/).
 */
export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(dir: string): string {
  if (existsSync(join(dir, 'package.json'))) return dir;
  const parent = dirname(dir);
  if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
  return packageRoot(parent);
}
