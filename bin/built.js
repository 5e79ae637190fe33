// Whether dist/ holds this clone's TypeScript as it is now, compiled: `npm run build` runs this file, which
// records the sources' hash in dist/SOURCES, and the CLI compares it at start (reading them takes ~10 ms).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist/SOURCES');

/** What dist/ is made from: every file under harness/, the compiler's settings and package.json. */
function sourcesHash() {
  const files = readdirSync(join(ROOT, 'harness'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(ROOT, join(d.parentPath ?? d.path, d.name)))
    .sort();
  const hash = createHash('sha256');
  for (const f of [...files, 'tsconfig.json', 'tsconfig.build.json', 'package.json'])
    hash.update(`${f}\0`).update(readFileSync(join(ROOT, f)));
  return hash.digest('hex');
}

export const builtFromSources = () => existsSync(STAMP) && readFileSync(STAMP, 'utf8') === sourcesHash();

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(STAMP, sourcesHash());
