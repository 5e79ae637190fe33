/**
 * The package as another repository uses it: packed with `npm pack`, installed from its tarball into a folder
 * outside the repository, and the README's commands ("Use it in your project") run there as written, which
 * boots a guest through `nvdimm-harness run` and one through `vitest run` with the exported plugin. Then the
 * starter scenario expects the wrong size, and both fail. Four boots in all.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestImage } from '../images/build.js';
import { DEFAULT_IMAGE } from '../images/recipe.js';

const ROOT = join(import.meta.dirname, '../..');
const PACKED_AS = '/path/to/nvdimm-harness-0.1.0.tgz';

/** The commands of the README's block run "in your repository", without their comments. */
function readmeCommands(): string[] {
  const section = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n## Use it in your project\n')[1]?.split('\n## ')[0] ?? '';
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

let tmp: string;
let project: string;
let tarball: string;
let files: string[];
const sh = (command: string) => execa(command, { shell: true, cwd: project, reject: false, all: true, env: { NO_COLOR: '1' } });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nvdimm-harness-pack-'));
  project = await mkdtemp(join(tmp, 'project-'));
  // As the README's `npm pack`, but in a copy of the clone, since packing compiles into dist/ afresh, which the
  // CLI runs meanwhile started from this clone use; and the tarball goes to the temporary folder.
  const clone = join(tmp, 'clone');
  const { files: published } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const f of [
    ...published.filter((f) => f !== 'dist'),
    'harness',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'LICENSE',
  ])
    await cp(join(ROOT, f), join(clone, f), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const pack = await execa('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: clone });
  const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, packed!.filename);
  files = packed!.files.map((f) => f.path);
  // The default image as this clone builds it: the installed copy must find it in the shared cache.
  await guestImage(DEFAULT_IMAGE);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the package', () => {
  it('holds the CLI, the compiled harness with its declarations, images, schema and templates; no tests, CI files or benchmark output', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/nvdimm-harness.js', 'dist/harness/index.d.ts', 'dist/harness/vitest/index.js']));
    expect(files).toEqual(
      expect.arrayContaining(['images/init', 'images/modprobe', 'schema/scenario.schema.json', 'templates/nvdimm.yml']),
    );
    const outside = files.filter((f) => !/^(bin|dist|docs|images|schema|templates)\/|^(README\.md|LICENSE|package\.json)$/.test(f));
    expect(outside).toEqual([]);
    const unwanted = files.filter((f) => /\.test\.|fixtures|^\.?ci\/|^\.github\/|^bench\/|^scenarios\/|\.ts$(?<!\.d\.ts$)/.test(f));
    expect(unwanted).toEqual([]);
  });

  it('installs outside the repository, and the README commands pass there: init, run and vitest run', async () => {
    expect(relative(ROOT, project).startsWith('..')).toBe(true);
    for (const command of readmeCommands()) {
      const r = await sh(command.replace(PACKED_AS, tarball));
      expect(r.exitCode, `${command}\n${r.all}`).toBe(0);
      // No install script warned about, nor run: the README's allowScripts denies each one.
      if (command.startsWith('npm install')) expect(r.all).not.toMatch(/install-scripts/);
      if (/^npx (nvdimm-harness run|vitest run)$/.test(command)) {
        expect(r.all).toMatch(/Tests {2}3 passed \(3\)/);
        // Same recipes and guest scripts, same image key: found in the cache, not built again.
        expect(r.all).not.toContain(`image ${DEFAULT_IMAGE}:`);
      }
    }
    for (const f of ['init', 'modprobe', `${DEFAULT_IMAGE}.json`])
      expect(await readFile(join(project, 'node_modules/nvdimm-harness/images', f), 'utf8'), f).toBe(
        await readFile(join(ROOT, 'images', f), 'utf8'),
      );
  });

  it('exports the API and the schema, with declarations a TypeScript project type-checks against', async () => {
    const api = await sh(
      `node --input-type=module -e "const h = await import('nvdimm-harness'); const s = (await import('node:module')).createRequire(process.cwd() + '/').resolve('nvdimm-harness/schema.json'); console.log(h.validateScenario('scenarios/example.yaml').length, h.loadScenario('scenarios/example.yaml').scenario.name, typeof h.runScenarios, JSON.parse((await import('node:fs')).readFileSync(s, 'utf8')).title)"`,
    );
    expect(api.exitCode, api.all).toBe(0);
    expect(api.stdout).toBe(
      `0 A file-backed NVDIMM is a pmem region of its size function ${JSON.parse(readFileSync(join(ROOT, 'schema/scenario.schema.json'), 'utf8')).title}`,
    );
    await writeFile(
      join(project, 'uses.mts'),
      `import { loadScenario, runScenarios, validateScenario, type ScenarioIssue } from 'nvdimm-harness';
import { nvdimmScenarios } from 'nvdimm-harness/vitest';
const issues: ScenarioIssue[] = validateScenario('scenarios/example.yaml');
const name: string = loadScenario('scenarios/example.yaml').scenario.name;
export const later = (): Promise<number> => runScenarios(['scenarios'], { qemu: '7.2', filter: 'ndctl' });
export const config = nvdimmScenarios(['pmem/**/*.yaml']);
console.log(issues, name);
`,
    );
    // A wrong option type: the declarations must catch it.
    await writeFile(
      join(project, 'wrong.mts'),
      `import { runScenarios } from 'nvdimm-harness';\nexport const later = () => runScenarios([], { qemu: 7.2 });\n`,
    );
    const tsc = await sh(
      `node ${join(ROOT, 'node_modules/typescript/bin/tsc')} --noEmit --strict --skipLibCheck --target es2022 --module nodenext --moduleResolution nodenext uses.mts wrong.mts`,
    );
    expect(tsc.exitCode).toBe(2);
    expect(tsc.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^wrong\.mts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/),
    ]);
  });

  it('matrix --run says it needs a clone, whose ci/ scripts the package does not hold: one line, exit 2', async () => {
    const r = await sh("npx nvdimm-harness matrix --run --cells '^qemu-7\\.2-debian-bookworm-pc-'");
    expect(r.exitCode, r.all).toBe(2);
    expect(r.stderr).toBe(
      'matrix --run needs ci/run-cell.mjs of a clone of nvdimm-harness; here, run each cell with nvdimm-harness run --qemu Q --image I --machine M --shard S',
    );
  });

  it('a false expectation fails through run and through vitest run: exit 1, the expected and seen sizes', async () => {
    const example = join(project, 'scenarios/example.yaml');
    const text = await readFile(example, 'utf8');
    expect(text).toContain('regions: [{ size: 256M, type: pmem }]');
    await writeFile(example, text.replace('regions: [{ size: 256M, type: pmem }]', 'regions: [{ size: 128M, type: pmem }]'));
    for (const command of ['npx nvdimm-harness run', 'npx vitest run']) {
      const r = await sh(command);
      expect(r.exitCode, `${command}\n${r.all}`).toBe(1);
      expect(r.all, command).toMatch(/134217728/);
      expect(r.all, command).toMatch(/268435456/);
    }
  });
});
