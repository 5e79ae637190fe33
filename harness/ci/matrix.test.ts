import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellId, computeCells, formatTable, githubMatrix, MatrixConfigError, parseMatrixConfig, type ScenarioRange } from './matrix.js';
import { versionIn } from '../qemu/versions.js';
import { loadRecipe } from '../images/recipe.js';

const ROOT = join(import.meta.dirname, '../..');
const IMAGES = ['debian-bookworm', 'debian-bookworm-arm64', 'debian-bullseye', 'debian-sid', 'debian-trixie', 'debian-trixie-arm64'];

const CONFIG = `
qemu: ["5.2", "7.2", "10.0", "11.1"]
images: [debian-bullseye, debian-bookworm, debian-trixie, debian-sid]
machines: [pc, q35]
shards: 2
runs:
  - scenarios: scenarios
    qemu: all
    images: [debian-bookworm]
    machines: [pc]
  - scenarios: scenarios/basic.yaml
    qemu: ["7.2"]
    images: [debian-bullseye, debian-trixie, debian-sid]
    machines: [pc]
  - scenarios: scenarios
    qemu: ["5.2", "10.0"]
    images: [debian-bookworm]
    machines: [q35]
`;

/**
 * Scenario selections as the CLI would find them: a folder of three files, and one file. Each scenario is
 * its `qemu:` range, for both machine types, or its range and `machines:`.
 */
function scenarios(ranges: Record<string, (string | { qemu: string; machines: string[] })[]>) {
  return (s: string): ScenarioRange[] =>
    (ranges[s] ?? []).map((r, i) => ({
      file: `${s}/${i}.yaml`,
      arches: ['amd64', 'arm64'],
      ...(typeof r === 'string' ? { qemu: r, machines: ['pc', 'q35'] } : r),
    }));
}
const ALL_IN_RANGE = scenarios({ scenarios: ['>=2.6', '>=2.8', '>=2.7'], 'scenarios/basic.yaml': ['>=2.8'] });

/** The file:line:column messages of a configuration that must not parse. */
function errorsOf(text: string): string[] {
  try {
    parseMatrixConfig(text, 'm.yaml', { images: IMAGES, scenarioExists: (p) => p.startsWith('scenarios') });
  } catch (e) {
    if (e instanceof MatrixConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('parsed without error');
}

describe('the matrix configuration', () => {
  it('ci/matrix.yaml is valid, with the images of images/ and existing scenarios', () => {
    const text = readFileSync(join(ROOT, 'ci/matrix.yaml'), 'utf8');
    const imageArch = (image: string) => loadRecipe(image).recipe.arch;
    const config = parseMatrixConfig(text, 'ci/matrix.yaml', { images: IMAGES, scenarioExists: () => true, imageArch });
    expect(config.qemu).toEqual(['5.2', '7.2', '10.0', '11.1']);
    expect([...config.images].sort()).toEqual(IMAGES);
    expect(config.machines).toEqual(['pc', 'q35', 'virt']);
    // pc everywhere; q35 on every QEMU version with the default image; virt (arm64) on every version with its image.
    const { cells } = computeCells(config, () => [
      { file: 'a.yaml', qemu: '*', machines: ['pc', 'q35', 'virt'], arches: ['amd64', 'arm64'] },
      { file: 'b.yaml', qemu: '*', machines: ['pc'], arches: ['amd64', 'arm64'] },
    ]);
    const q35 = cells.filter((c) => c.machine === 'q35');
    expect(new Set(q35.map((c) => `${c.qemu} ${c.image}`))).toEqual(new Set(config.qemu.map((q) => `${q} debian-bookworm`)));
    const virt = cells.filter((c) => c.machine === 'virt');
    expect(new Set(virt.map((c) => `${c.qemu} ${c.image}`))).toEqual(
      new Set([...config.qemu.map((q) => `${q} debian-bookworm-arm64`), '7.2 debian-trixie-arm64']),
    );
    expect(new Set(cells.filter((c) => c.machine === 'pc').map((c) => c.image))).toEqual(
      new Set(IMAGES.filter((i) => imageArch(i) === 'amd64')),
    );
  });

  it('refuses a cell whose image is of another architecture than its machine type', () => {
    const text = `
qemu: ["7.2"]
images: [debian-bookworm, debian-bookworm-arm64]
machines: [pc, virt]
shards: 1
runs:
  - { scenarios: scenarios, qemu: all, images: [debian-bookworm-arm64], machines: [pc] }
  - { scenarios: scenarios, qemu: all, images: [debian-bookworm], machines: [virt] }
`;
    const imageArch = (image: string) => loadRecipe(image).recipe.arch;
    expect(() => parseMatrixConfig(text, 'm.yaml', { images: IMAGES, imageArch })).toThrow(
      /runs\.0: image debian-bookworm-arm64 is for arm64, but machine pc is amd64's[^]*runs\.1: image debian-bookworm is for amd64, but machine virt is arm64's/,
    );
  });

  it('parses a well-formed configuration', () => {
    const config = parseMatrixConfig(CONFIG, 'm.yaml');
    expect(config.shards).toBe(2);
    expect(config.machines).toEqual(['pc', 'q35']);
    expect(config.runs[0]).toEqual({ scenarios: 'scenarios', qemu: 'all', images: ['debian-bookworm'], machines: ['pc'] });
    // The same QEMU x image pair on another machine type is another cell, not a duplicate.
    expect(config.runs[2]).toEqual({ scenarios: 'scenarios', qemu: ['5.2', '10.0'], images: ['debian-bookworm'], machines: ['q35'] });
  });

  it.each([
    [
      'an unquoted version YAML reads as a number',
      CONFIG.replace('"10.0"', '10.0'),
      'm.yaml:2:22: qemu.2: expected a version in quotes, such as "10.0": unquoted, YAML reads it as the number 10',
    ],
    [
      'a QEMU version the harness does not provision',
      CONFIG.replace('"11.1"', '"9.9"'),
      'm.yaml:2:30: qemu.3: expected a QEMU version the harness provisions: 5.2, 7.2, 10.0, 11.1',
    ],
    [
      'an image with no images/NAME.json',
      CONFIG.replace('debian-sid]\nmachines', 'debian-sdi]\nmachines'),
      'm.yaml:3:59: images.3: no images/debian-sdi.json',
    ],
    ['an unknown key', CONFIG.replace('shards: 2', 'shard: 2'), 'm.yaml:5:1: unknown key "shard"'],
    [
      'a run selecting an unknown version',
      CONFIG.replace('qemu: ["7.2"]', 'qemu: ["7.2", "2.12"]'),
      'm.yaml:12:19: runs.1.qemu.1: expected a QEMU version',
    ],
    [
      'a run selecting an undeclared version',
      CONFIG.replace(', "11.1"]', ']').replace('qemu: ["7.2"]', 'qemu: ["7.2", "11.1"]'),
      'm.yaml:12:19: runs.1.qemu.1: "11.1" is not in the top-level `qemu` (5.2, 7.2, 10.0)',
    ],
    ['neither "all" nor a list', CONFIG.replace('qemu: all', 'qemu: every'), 'm.yaml:8:11: runs.0.qemu: expected "all" or a list'],
    [
      'a scenario path that does not exist',
      CONFIG.replace('scenarios/basic.yaml', 'tests/basic.yaml'),
      'm.yaml:11:16: runs.1.scenarios: no such file or folder: tests/basic.yaml',
    ],
    [
      'a scenario path outside the repository',
      CONFIG.replace('scenarios/basic.yaml', '../basic.yaml'),
      'm.yaml:11:16: runs.1.scenarios: expected a scenario file or folder relative',
    ],
    [
      'a QEMU x image pair in two runs on the same machine type',
      CONFIG.replace('[debian-bullseye, debian-trixie, debian-sid]', 'all'),
      'm.yaml:11:5: runs.1: QEMU 7.2 with debian-bookworm on pc is already in runs[0]: a QEMU x image x machine triple is one cell',
    ],
    [
      'an image in no run',
      CONFIG.replace('[debian-bullseye, debian-trixie, debian-sid]', '[debian-bullseye, debian-trixie]'),
      'm.yaml:3:59: images.3: "debian-sid" is in no run',
    ],
    ['a version listed twice', CONFIG.replace('"11.1"]', '"11.1", "5.2"]'), 'm.yaml:2:38: qemu.4: "5.2" is listed twice'],
    ['no shards', CONFIG.replace('shards: 2', 'shards: 0'), 'm.yaml:5:9: shards: Too small'],
    ['broken YAML', CONFIG.replace('shards: 2', 'shards: [2'), 'm.yaml:'],
    // The machine type axis, checked as the others are.
    [
      'a machine type `run --machine` does not take',
      CONFIG.replace('machines: [pc, q35]', 'machines: [pc, q53]'),
      'm.yaml:4:16: machines.1: expected a machine type: pc, q35',
    ],
    [
      'a machine type listed twice',
      CONFIG.replace('machines: [pc, q35]', 'machines: [pc, q35, pc]'),
      'm.yaml:4:21: machines.2: "pc" is listed twice',
    ],
    ['no top-level machine types', CONFIG.replace('machines: [pc, q35]\n', ''), 'm.yaml:2:1: machines: expected array'],
    [
      'a machine type in no run',
      CONFIG.slice(0, CONFIG.lastIndexOf('  - scenarios: scenarios\n')),
      'm.yaml:4:16: machines.1: "q35" is in no run: add it to one, or remove it',
    ],
    [
      'a run selecting an unknown machine type',
      CONFIG.replace('machines: [q35]', 'machines: [q35, i440fx]'),
      'm.yaml:18:21: runs.2.machines.1: expected a machine type: pc, q35',
    ],
    [
      'a run selecting an undeclared machine type',
      CONFIG.replace('machines: [pc, q35]', 'machines: [pc]'),
      'm.yaml:18:16: runs.2.machines.0: "q35" is not in the top-level `machines` (pc)',
    ],
    [
      'a run selecting a machine type twice',
      CONFIG.replace('machines: [q35]', 'machines: [q35, q35]'),
      'm.yaml:18:21: runs.2.machines.1: "q35" is listed twice',
    ],
    [
      'a run with neither "all" nor a list of machine types',
      CONFIG.replace('machines: [q35]', 'machines: q35'),
      'm.yaml:18:15: runs.2.machines: expected "all" or a list',
    ],
    ['a run without machine types', CONFIG.replace('\n    machines: [q35]', ''), 'm.yaml:15:5: runs.2.machines: expected "all" or a list'],
    [
      'a QEMU x image x machine triple in two runs',
      CONFIG.replace('machines: [q35]', 'machines: all'),
      'm.yaml:15:5: runs.2: QEMU 5.2 with debian-bookworm on pc is already in runs[0]: a QEMU x image x machine triple is one cell',
    ],
  ])('points at %s', (_, text, expected) => {
    expect(
      errorsOf(text).some((line) => line.startsWith(expected)),
      errorsOf(text).join('\n'),
    ).toBe(true);
  });
});

describe('the cells', () => {
  it('are the full suite on pc on every QEMU version with the default image, basic.yaml on the other images, and the suite on q35', () => {
    const { cells, dropped } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ALL_IN_RANGE);
    expect(dropped).toEqual([]);
    expect(cells.map((c) => c.name)).toEqual([
      'qemu-5.2 debian-bookworm pc 1/2',
      'qemu-5.2 debian-bookworm pc 2/2',
      'qemu-7.2 debian-bookworm pc 1/2',
      'qemu-7.2 debian-bookworm pc 2/2',
      'qemu-10.0 debian-bookworm pc 1/2',
      'qemu-10.0 debian-bookworm pc 2/2',
      'qemu-11.1 debian-bookworm pc 1/2',
      'qemu-11.1 debian-bookworm pc 2/2',
      // One scenario file: one shard (vitest refuses more shards than files).
      'qemu-7.2 debian-bullseye pc 1/1',
      'qemu-7.2 debian-trixie pc 1/1',
      'qemu-7.2 debian-sid pc 1/1',
      'qemu-5.2 debian-bookworm q35 1/2',
      'qemu-5.2 debian-bookworm q35 2/2',
      'qemu-10.0 debian-bookworm q35 1/2',
      'qemu-10.0 debian-bookworm q35 2/2',
    ]);
    expect(cells[2]).toEqual({
      name: 'qemu-7.2 debian-bookworm pc 1/2',
      qemu: '7.2',
      image: 'debian-bookworm',
      machine: 'pc',
      shard: '1/2',
      scenarios: 'scenarios',
      id: 'qemu-7.2-debian-bookworm-pc-1of2',
    });
    expect(cells[10]!.scenarios).toBe('scenarios/basic.yaml');
    expect(cells.at(-1)).toEqual({
      name: 'qemu-10.0 debian-bookworm q35 2/2',
      qemu: '10.0',
      image: 'debian-bookworm',
      machine: 'q35',
      shard: '2/2',
      scenarios: 'scenarios',
      id: 'qemu-10.0-debian-bookworm-q35-2of2',
    });
  });

  it('take the machine types of `machines: all` in the order of the top-level list', () => {
    const config = parseMatrixConfig(
      CONFIG.replace('qemu: all', 'qemu: ["7.2", "11.1"]').replace('machines: [q35]', 'machines: all'),
      'm.yaml',
    );
    const { cells } = computeCells(config, ALL_IN_RANGE);
    expect(cells.filter((c) => c.qemu === '5.2').map((c) => `${c.machine} ${c.shard}`)).toEqual(['pc 1/2', 'pc 2/2', 'q35 1/2', 'q35 2/2']);
  });

  it('drop a QEMU version outside every selected scenario range, and keep one inside any', () => {
    const ranges = scenarios({ scenarios: ['>=7.0', '<6 || >=10.0', '>=10.0'], 'scenarios/basic.yaml': ['>=8.0'] });
    const { cells, dropped } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ranges);
    expect(new Set(cells.map((c) => c.qemu))).toEqual(new Set(['5.2', '7.2', '10.0', '11.1']));
    expect(cells.every((c) => c.image === 'debian-bookworm')).toBe(true);
    expect(dropped.map((d) => `${d.qemu} ${d.image} ${d.machine}`)).toEqual([
      '7.2 debian-bullseye pc',
      '7.2 debian-trixie pc',
      '7.2 debian-sid pc',
    ]);
    expect(dropped[0]!.reason).toBe("QEMU 7.2 is outside every scenario's range (>=8.0)");

    const none = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), scenarios({ scenarios: ['>=12'], 'scenarios/basic.yaml': ['>=12'] }));
    expect(none.cells).toEqual([]);
    // 4 QEMU x 1 image on pc, 1 x 3 on pc, 2 x 1 on q35.
    expect(none.dropped).toHaveLength(9);
    expect(none.dropped.at(-1)).toEqual({
      qemu: '10.0',
      image: 'debian-bookworm',
      machine: 'q35',
      scenarios: 'scenarios',
      reason: "QEMU 10.0 is outside every scenario's range (>=12)",
    });
  });

  it('drop a machine type no scenario in range for the QEMU version is for, and keep one any is for', () => {
    const ranges = scenarios({
      scenarios: [
        { qemu: '>=7.0', machines: ['pc'] },
        { qemu: '<6 || >=10.0', machines: ['pc'] },
        // For q35, but not for QEMU 5.2: a 5.2 cell on q35 would skip every scenario.
        { qemu: '>=10.0', machines: ['pc', 'q35'] },
      ],
      'scenarios/basic.yaml': [{ qemu: '*', machines: ['q35'] }],
    });
    const { cells, dropped } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ranges);
    expect(cells.filter((c) => c.machine === 'q35').map((c) => c.name)).toEqual([
      'qemu-10.0 debian-bookworm q35 1/2',
      'qemu-10.0 debian-bookworm q35 2/2',
    ]);
    // Every pc cell of the folder stays; basic.yaml is for q35 only, and its run is on pc.
    expect(cells.filter((c) => c.machine === 'pc').map((c) => c.qemu)).toEqual([
      '5.2',
      '5.2',
      '7.2',
      '7.2',
      '10.0',
      '10.0',
      '11.1',
      '11.1',
    ]);
    expect(dropped).toEqual([
      ...['debian-bullseye', 'debian-trixie', 'debian-sid'].map((image) => ({
        qemu: '7.2',
        image,
        machine: 'pc',
        scenarios: 'scenarios/basic.yaml',
        reason: 'no scenario in range for QEMU 7.2 is for machine pc (their machines: q35)',
      })),
      {
        qemu: '5.2',
        image: 'debian-bookworm',
        machine: 'q35',
        scenarios: 'scenarios',
        reason: 'no scenario in range for QEMU 5.2 is for machine q35 (their machines: pc)',
      },
    ]);
  });

  it('take a run its own shard count, capped at its number of scenario files', () => {
    const config = parseMatrixConfig(CONFIG.replace('images: [debian-bookworm]', 'images: [debian-bookworm]\n    shards: 5'), 'm.yaml');
    const { cells } = computeCells(config, ALL_IN_RANGE);
    expect(cells.filter((c) => c.qemu === '5.2' && c.machine === 'pc').map((c) => c.shard)).toEqual(['1/3', '2/3', '3/3']);
    // Not the q35 run, which has the top-level count.
    expect(cells.filter((c) => c.qemu === '5.2' && c.machine === 'q35').map((c) => c.shard)).toEqual(['1/2', '2/2']);
  });

  it('refuse a run whose selection holds no scenario file', () => {
    expect(() => computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), scenarios({ scenarios: ['*'] }))).toThrow(
      'runs[1]: no scenario file in scenarios/basic.yaml',
    );
  });

  it('read versions such as "5.2" as 5.2.0 against ranges', () => {
    expect(versionIn('5.2', '>=2.8')).toBe(true);
    expect(versionIn('5.2', '>=5.2')).toBe(true);
    expect(versionIn('10.0', '<10.0')).toBe(false);
    expect(versionIn('11.1', '11.x')).toBe(true);
  });

  it('have ids fit for file and artifact names, unique, and names that say the same', () => {
    expect(cellId('10.0', 'debian-trixie', 'q35', '2/2')).toBe('qemu-10.0-debian-trixie-q35-2of2');
    const { cells } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ALL_IN_RANGE);
    for (const c of cells) {
      expect(c.id).toBe(cellId(c.qemu, c.image, c.machine, c.shard));
      expect(c.id).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(c.name).toBe(`qemu-${c.qemu} ${c.image} ${c.machine} ${c.shard}`);
    }
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
  });

  it('are printed as a GitHub Actions matrix and as a table', () => {
    const { cells } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ALL_IN_RANGE);
    expect(githubMatrix(cells)).toEqual({ include: cells });
    const dropped = [{ qemu: '5.2', image: 'debian-sid', machine: 'q35', scenarios: 'x', reason: 'why' }];
    const table = formatTable([...cells.slice(9, 11), cells.at(-1)!], dropped).split('\n');
    expect(table).toEqual([
      'QEMU  IMAGE            MACHINE  SHARD  SCENARIOS',
      '7.2   debian-trixie    pc       1/1    scenarios/basic.yaml',
      '7.2   debian-sid       pc       1/1    scenarios/basic.yaml',
      '10.0  debian-bookworm  q35      2/2    scenarios',
      '',
      '3 cells: 2 QEMU versions, 3 images, 2 machine types',
      'dropped: QEMU 5.2 with debian-sid on q35 for x: why',
      'run one locally as CI does: node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD SCENARIOS',
    ]);
    expect(formatTable(cells.slice(9, 11), []).split('\n')).toContain('2 cells: 1 QEMU version, 2 images, 1 machine type');
  });
});
