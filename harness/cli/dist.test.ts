/**
 * bin/built.js, which tells the CLI whether dist/ is this clone's TypeScript compiled as it is now: run on a
 * small tree of its own, as `npm run build` runs it.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
let tree: string;
let builtFromSources: () => boolean;

describe('dist/ counts as built from the sources', () => {
  beforeAll(async () => {
    tree = mkdtempSync(join(tmpdir(), 'nvdimm-harness-dist-'));
    mkdirSync(join(tree, 'bin'));
    cpSync(join(ROOT, 'bin/built.js'), join(tree, 'bin/built.js'));
    mkdirSync(join(tree, 'harness/cli'), { recursive: true });
    writeFileSync(join(tree, 'harness/cli/main.ts'), 'export {};\n');
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) writeFileSync(join(tree, f), '{}\n');
    mkdirSync(join(tree, 'dist'));
    await execa('node', [join(tree, 'bin/built.js')]);
    ({ builtFromSources } = (await import(pathToFileURL(join(tree, 'bin/built.js')).href)) as { builtFromSources: () => boolean });
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('right after the build', () => {
    expect(builtFromSources()).toBe(true);
  });

  it('not once a source changes, until it is as it was', () => {
    writeFileSync(join(tree, 'harness/cli/main.ts'), 'export const changed = 1;\n');
    expect(builtFromSources()).toBe(false);
    writeFileSync(join(tree, 'harness/cli/main.ts'), 'export {};\n');
    expect(builtFromSources()).toBe(true);
  });

  it('not with a new file under harness/, nor with the compiler settings changed', () => {
    writeFileSync(join(tree, 'harness/new.ts'), '');
    expect(builtFromSources()).toBe(false);
    unlinkSync(join(tree, 'harness/new.ts'));
    writeFileSync(join(tree, 'tsconfig.build.json'), '{"compilerOptions":{}}\n');
    expect(builtFromSources()).toBe(false);
    writeFileSync(join(tree, 'tsconfig.build.json'), '{}\n');
    expect(builtFromSources()).toBe(true);
  });

  it('not without a record of the build', () => {
    unlinkSync(join(tree, 'dist/SOURCES'));
    expect(builtFromSources()).toBe(false);
  });
});
