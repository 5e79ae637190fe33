import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellId, computeCells, formatTable, githubMatrix, MatrixConfigError, parseMatrixConfig, type ScenarioRange } from './matrix.js';
import { versionIn } from '../qemu/versions.js';

const ROOT = join(import.meta.dirname, '../..');
const IMAGES = ['debian-bookworm', 'debian-bullseye', 'debian-sid', 'debian-trixie'];

const CONFIG = `
qemu: ["5.2", "7.2", "10.0", "11.1"]
images: [debian-bullseye, debian-bookworm, debian-trixie, debian-sid]
shards: 2
runs:
  - scenarios: scenarios
    qemu: all
    images: [debian-bookworm]
  - scenarios: scenarios/basic.yaml
    qemu: ["7.2"]
    images: [debian-bullseye, debian-trixie, debian-sid]
`;

/** Scenario selections as the CLI would find them: a folder of three files, and one file. */
function scenarios(ranges: Record<string, string[]>) {
  return (s: string): ScenarioRange[] => (ranges[s] ?? []).map((qemu, i) => ({ file: `${s}/${i}.yaml`, qemu }));
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
    const config = parseMatrixConfig(text, 'ci/matrix.yaml', { images: IMAGES, scenarioExists: () => true });
    expect(config.qemu).toEqual(['5.2', '7.2', '10.0', '11.1']);
    expect([...config.images].sort()).toEqual(IMAGES);
  });

  it('parses a well-formed configuration', () => {
    const config = parseMatrixConfig(CONFIG, 'm.yaml');
    expect(config.shards).toBe(2);
    expect(config.runs[0]).toEqual({ scenarios: 'scenarios', qemu: 'all', images: ['debian-bookworm'] });
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
      CONFIG.replace('debian-sid]\nshards', 'debian-sdi]\nshards'),
      'm.yaml:3:59: images.3: no images/debian-sdi.json',
    ],
    ['an unknown key', CONFIG.replace('shards: 2', 'shard: 2'), 'm.yaml:4:1: unknown key "shard"'],
    [
      'a run selecting an unknown version',
      CONFIG.replace('qemu: ["7.2"]', 'qemu: ["7.2", "2.12"]'),
      'm.yaml:10:19: runs.1.qemu.1: expected a QEMU version',
    ],
    [
      'a run selecting an undeclared version',
      CONFIG.replace(', "11.1"]', ']').replace('qemu: ["7.2"]', 'qemu: ["7.2", "11.1"]'),
      'm.yaml:10:19: runs.1.qemu.1: "11.1" is not in the top-level `qemu` (5.2, 7.2, 10.0)',
    ],
    ['neither "all" nor a list', CONFIG.replace('qemu: all', 'qemu: every'), 'm.yaml:7:11: runs.0.qemu: expected "all" or a list'],
    [
      'a scenario path that does not exist',
      CONFIG.replace('scenarios/basic.yaml', 'tests/basic.yaml'),
      'm.yaml:9:16: runs.1.scenarios: no such file or folder: tests/basic.yaml',
    ],
    [
      'a scenario path outside the repository',
      CONFIG.replace('scenarios/basic.yaml', '../basic.yaml'),
      'm.yaml:9:16: runs.1.scenarios: expected a scenario file or folder relative',
    ],
    [
      'a pair in two runs',
      CONFIG.replace('[debian-bullseye, debian-trixie, debian-sid]', 'all'),
      'm.yaml:9:5: runs.1: QEMU 7.2 with debian-bookworm is already in runs[0]',
    ],
    [
      'an image in no run',
      CONFIG.replace('[debian-bullseye, debian-trixie, debian-sid]', '[debian-bullseye, debian-trixie]'),
      'm.yaml:3:59: images.3: "debian-sid" is in no run',
    ],
    ['a version listed twice', CONFIG.replace('"11.1"]', '"11.1", "5.2"]'), 'm.yaml:2:38: qemu.4: "5.2" is listed twice'],
    ['no shards', CONFIG.replace('shards: 2', 'shards: 0'), 'm.yaml:4:9: shards: Too small'],
    ['broken YAML', CONFIG.replace('shards: 2', 'shards: [2'), 'm.yaml:'],
  ])('points at %s', (_, text, expected) => {
    expect(
      errorsOf(text).some((line) => line.startsWith(expected)),
      errorsOf(text).join('\n'),
    ).toBe(true);
  });
});

describe('the cells', () => {
  it('are the full suite on every QEMU version with the default image, and basic.yaml on the other images', () => {
    const { cells, dropped } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ALL_IN_RANGE);
    expect(dropped).toEqual([]);
    expect(cells.map((c) => c.name)).toEqual([
      'qemu-5.2 debian-bookworm 1/2',
      'qemu-5.2 debian-bookworm 2/2',
      'qemu-7.2 debian-bookworm 1/2',
      'qemu-7.2 debian-bookworm 2/2',
      'qemu-10.0 debian-bookworm 1/2',
      'qemu-10.0 debian-bookworm 2/2',
      'qemu-11.1 debian-bookworm 1/2',
      'qemu-11.1 debian-bookworm 2/2',
      // One scenario file: one shard (vitest refuses more shards than files).
      'qemu-7.2 debian-bullseye 1/1',
      'qemu-7.2 debian-trixie 1/1',
      'qemu-7.2 debian-sid 1/1',
    ]);
    expect(cells[2]).toEqual({
      name: 'qemu-7.2 debian-bookworm 1/2',
      qemu: '7.2',
      image: 'debian-bookworm',
      shard: '1/2',
      scenarios: 'scenarios',
      id: 'qemu-7.2-debian-bookworm-1of2',
    });
    expect(cells.at(-1)!.scenarios).toBe('scenarios/basic.yaml');
  });

  it('drop a QEMU version outside every selected scenario range, and keep one inside any', () => {
    const ranges = scenarios({ scenarios: ['>=7.0', '<6 || >=10.0', '>=10.0'], 'scenarios/basic.yaml': ['>=8.0'] });
    const { cells, dropped } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ranges);
    expect(new Set(cells.map((c) => c.qemu))).toEqual(new Set(['5.2', '7.2', '10.0', '11.1']));
    expect(cells.every((c) => c.image === 'debian-bookworm')).toBe(true);
    expect(dropped.map((d) => `${d.qemu} ${d.image}`)).toEqual(['7.2 debian-bullseye', '7.2 debian-trixie', '7.2 debian-sid']);
    expect(dropped[0]!.reason).toBe("QEMU 7.2 is outside every scenario's range (>=8.0)");

    const none = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), scenarios({ scenarios: ['>=12'], 'scenarios/basic.yaml': ['>=12'] }));
    expect(none.cells).toEqual([]);
    expect(none.dropped).toHaveLength(7);
  });

  it('take a run its own shard count, capped at its number of scenario files', () => {
    const config = parseMatrixConfig(CONFIG.replace('images: [debian-bookworm]', 'images: [debian-bookworm]\n    shards: 5'), 'm.yaml');
    const { cells } = computeCells(config, ALL_IN_RANGE);
    expect(cells.filter((c) => c.qemu === '5.2').map((c) => c.shard)).toEqual(['1/3', '2/3', '3/3']);
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

  it('have ids fit for file and artifact names', () => {
    expect(cellId('10.0', 'debian-trixie', '2/2')).toBe('qemu-10.0-debian-trixie-2of2');
  });

  it('are printed as a GitHub Actions matrix and as a table', () => {
    const { cells } = computeCells(parseMatrixConfig(CONFIG, 'm.yaml'), ALL_IN_RANGE);
    expect(githubMatrix(cells)).toEqual({ include: cells });
    const dropped = [{ qemu: '5.2', image: 'debian-sid', scenarios: 'x', reason: 'why' }];
    const table = formatTable(cells.slice(-2), dropped).split('\n');
    expect(table).toEqual([
      'QEMU  IMAGE          SHARD  SCENARIOS',
      '7.2   debian-trixie  1/1    scenarios/basic.yaml',
      '7.2   debian-sid     1/1    scenarios/basic.yaml',
      '',
      '2 cells: 1 QEMU version, 2 images',
      'dropped: QEMU 5.2 with debian-sid for x: why',
      'run one locally as CI does: ci/run-cell.sh QEMU IMAGE SHARD SCENARIOS',
    ]);
  });
});
