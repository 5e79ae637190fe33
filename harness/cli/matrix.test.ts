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
  machines: 'all' | string[];
  shards?: number;
}
interface Config {
  qemu: string[];
  images: string[];
  machines: string[];
  shards: number;
  runs: Run[];
}

/** The `qemu:` ranges, `machines:` and `arches:` of the scenario files a run selects, read straight from the YAML. */
async function rangesOf(selection: string): Promise<{ qemu: string; machines: string[]; arches: string[] }[]> {
  const path = join(ROOT, selection);
  const files = selection.endsWith('.yaml') ? [path] : (await readdir(path)).filter((f) => f.endsWith('.yaml')).map((f) => join(path, f));
  return Promise.all(
    files.map(async (f) => {
      const scenario = parse(await readFile(f, 'utf8')) as { qemu?: string; machines?: string[]; arches?: string[] };
      return {
        qemu: scenario.qemu ?? '*',
        machines: scenario.machines ?? ['pc', 'q35', 'virt'],
        arches: scenario.arches ?? ['amd64', 'arm64'],
      };
    }),
  );
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
        for (const image of run.images === 'all' ? config.images : run.images) {
          for (const machine of run.machines === 'all' ? config.machines : run.machines) {
            const arch = machine === 'virt' ? 'arm64' : 'amd64';
            if (
              !ranges.some((r) => semver.satisfies(semver.coerce(qemu)!, r.qemu) && r.machines.includes(machine) && r.arches.includes(arch))
            )
              continue;
            for (let i = 1; i <= shards; i++) {
              const shard = `${i}/${shards}`;
              const id = `qemu-${qemu}-${image}-${machine}-${i}of${shards}`;
              expected.push({
                name: `qemu-${qemu} ${image} ${machine} ${shard}`,
                qemu,
                image,
                machine,
                shard,
                scenarios: run.scenarios,
                id,
              });
            }
          }
        }
      }
    }
    const byName = (a: { name?: string }, b: { name?: string }) => a.name!.localeCompare(b.name!);
    expect([...include].sort(byName)).toEqual(expected.sort(byName));
    expect(new Set(include.map((c) => c.id)).size).toBe(include.length);
  });

  it('--json has the full suite on pc on every QEMU version with debian-bookworm and on every other image with QEMU 7.2, on q35 on every QEMU version with debian-bookworm, and on virt (arm64) on every QEMU version with debian-bookworm-arm64 and with QEMU 7.2 on debian-trixie-arm64', async () => {
    const { include } = JSON.parse((await cli('--json')).stdout) as { include: Record<string, string>[] };
    expect(include.every((c) => c.scenarios === 'scenarios')).toBe(true);
    expect(include.map((c) => `${c.qemu} ${c.image} ${c.machine} ${c.shard}`)).toEqual([
      ...['5.2', '7.2', '10.0', '11.1'].flatMap((q) => [`${q} debian-bookworm pc 1/2`, `${q} debian-bookworm pc 2/2`]),
      ...['debian-bullseye', 'debian-trixie', 'debian-sid'].flatMap((i) => [`7.2 ${i} pc 1/2`, `7.2 ${i} pc 2/2`]),
      ...['5.2', '7.2', '10.0', '11.1'].flatMap((q) => [`${q} debian-bookworm q35 1/2`, `${q} debian-bookworm q35 2/2`]),
      ...['5.2', '7.2', '10.0', '11.1'].flatMap((q) => [`${q} debian-bookworm-arm64 virt 1/2`, `${q} debian-bookworm-arm64 virt 2/2`]),
      '7.2 debian-trixie-arm64 virt 1/2',
      '7.2 debian-trixie-arm64 virt 2/2',
    ]);
  });

  it('prints a table otherwise', async () => {
    const result = await cli();
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^QEMU +IMAGE +MACHINE +SHARD +SCENARIOS$/);
    expect(lines[1]).toMatch(/^5\.2 +debian-bookworm +pc +1\/2 +scenarios$/);
    expect(lines).toContainEqual(expect.stringMatching(/^11\.1 +debian-bookworm +q35 +2\/2 +scenarios$/));
    expect(result.stdout).toContain('32 cells: 4 QEMU versions, 6 images, 3 machine types');
    expect(result.stdout).toContain('node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD SCENARIOS');
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

  it('reports a machine type the configuration does not declare, and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvh-matrix-test-'));
    try {
      const text = (await readFile(join(ROOT, 'ci/matrix.yaml'), 'utf8')).replace('machines: [pc, q35, virt]', 'machines: [pc, virt]');
      await writeFile(join(dir, 'matrix.yaml'), text);
      const result = await cli('--config', join(dir, 'matrix.yaml'));
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/matrix\.yaml:\d+:\d+: runs\.2\.machines\.0: "q35" is not in the top-level `machines` \(pc, virt\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps only the cells whose id matches --cells', async () => {
    const all = JSON.parse((await cli('--json')).stdout) as { include: { id: string; qemu: string; machine: string }[] };
    const result = await cli('--json', '--cells', '^qemu-7\\.2-.*-pc-');
    expect(result.exitCode, result.stderr).toBe(0);
    const some = (JSON.parse(result.stdout) as typeof all).include;
    expect(some.map((c) => c.id)).toEqual(all.include.filter((c) => c.qemu === '7.2' && c.machine === 'pc').map((c) => c.id));
    expect(some.length).toBeGreaterThan(1);
    const none = await cli('--cells', 'qemu-9\\.9');
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/no cell left to run \(--cells qemu-9\\.9\)$/);
    const bad = await cli('--cells', '(');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '--cells <regexp>' argument '\(' is invalid\. Invalid regular expression/);
  });
});
