/**
 * `nvdimm-harness matrix` as CI calls it: the real CLI on the real ci/matrix.yaml and scenarios. The cells
 * expected are worked out here from the configuration on its own terms (no code of the command's).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import semver from 'semver';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

function cli(...args: string[]) {
  return execa('node', [CLI, 'matrix', ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });
}

interface Run {
  scenarios: string;
  qemu: 'all' | string[];
  images: 'all' | string[];
  shards?: number;
}
interface Config {
  qemu: string[];
  images: string[];
  shards: number;
  runs: Run[];
}

/** The `qemu:` ranges of the scenario files a run selects, read straight from the YAML. */
async function rangesOf(selection: string): Promise<string[]> {
  const path = join(ROOT, selection);
  const files = selection.endsWith('.yaml') ? [path] : (await readdir(path)).filter((f) => f.endsWith('.yaml')).map((f) => join(path, f));
  return Promise.all(files.map(async (f) => (parse(await readFile(f, 'utf8')) as { qemu?: string }).qemu ?? '*'));
}

describe('nvdimm-harness matrix', () => {
  it('--json prints one line of JSON for strategy.matrix, whose cells are those of ci/matrix.yaml', async () => {
    const result = await cli('--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const { include, ...rest } = JSON.parse(result.stdout) as { include: Record<string, string>[] };
    expect(rest).toEqual({});

    const config = parse(await readFile(join(ROOT, 'ci/matrix.yaml'), 'utf8')) as Config;
    const expected: Record<string, string>[] = [];
    for (const run of config.runs) {
      const ranges = await rangesOf(run.scenarios);
      const shards = Math.min(run.shards ?? config.shards, ranges.length);
      for (const qemu of run.qemu === 'all' ? config.qemu : run.qemu) {
        if (!ranges.some((r) => semver.satisfies(semver.coerce(qemu)!, r))) continue;
        for (const image of run.images === 'all' ? config.images : run.images) {
          for (let i = 1; i <= shards; i++) {
            const shard = `${i}/${shards}`;
            const id = `qemu-${qemu}-${image}-${i}of${shards}`;
            expected.push({ name: `qemu-${qemu} ${image} ${shard}`, qemu, image, shard, scenarios: run.scenarios, id });
          }
        }
      }
    }
    const byName = (a: { name?: string }, b: { name?: string }) => a.name!.localeCompare(b.name!);
    expect([...include].sort(byName)).toEqual(expected.sort(byName));
    expect(new Set(include.map((c) => c.id)).size).toBe(include.length);
  });

  it('--json has the full suite on every QEMU version with debian-bookworm, and on every other image with QEMU 7.2', async () => {
    const { include } = JSON.parse((await cli('--json')).stdout) as { include: Record<string, string>[] };
    expect(include.every((c) => c.scenarios === 'scenarios')).toBe(true);
    expect(include.map((c) => `${c.qemu} ${c.image} ${c.shard}`)).toEqual([
      ...['5.2', '7.2', '10.0', '11.1'].flatMap((q) => [`${q} debian-bookworm 1/2`, `${q} debian-bookworm 2/2`]),
      ...['debian-bullseye', 'debian-trixie', 'debian-sid'].flatMap((i) => [`7.2 ${i} 1/2`, `7.2 ${i} 2/2`]),
    ]);
  });

  it('prints a table otherwise', async () => {
    const result = await cli();
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^QEMU +IMAGE +SHARD +SCENARIOS$/);
    expect(lines[1]).toMatch(/^5\.2 +debian-bookworm +1\/2 +scenarios$/);
    expect(result.stdout).toContain('14 cells: 4 QEMU versions, 4 images');
  });

  it('reports a malformed configuration as file:line:column and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvh-matrix-test-'));
    try {
      const text = (await readFile(join(ROOT, 'ci/matrix.yaml'), 'utf8')).replace('images: [debian-bookworm]', 'images: [debian-bookwrom]');
      await writeFile(join(dir, 'matrix.yaml'), text);
      const result = await cli('--config', join(dir, 'matrix.yaml'));
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/matrix\.yaml:\d+:\d+: runs\.0\.images\.0: "debian-bookwrom" is not in the top-level `images`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
