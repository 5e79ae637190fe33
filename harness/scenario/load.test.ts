import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadScenarioFile, parseScenario, ScenarioError, type ScenarioIssue } from './load.js';
import { scenarioSchema } from './schema.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;

const VALID = `# a comment first, so that positions are not all on line 1
name: valid
files:
  plain: { size: 1G }
  big:
    size: 2G - 128K
guests:
  vm1:
    memory: { ram: 256M, slots: 2, maxmem: 4G }
    nvdimms:
      - { id: nv1, backend: { file: plain } }
      - id: nv2
        backend: { file: big, size: 1G, share: off }
        label-size: 128K
  vm2:
    machine: { type: q35 }
    memory: {}
steps:
  - boot: [vm1, vm2]
  - name: the region
    when: { qemu: "<10.0" }
    expect-ndctl: { guest: vm1, dimms: 2, regions: [{ size: 1G - 128K, type: pmem }] }
  - run: { guest: vm1, command: "ndctl list -N", output: raw }
  - stop: vm1
`;

/** The issues of the ScenarioError that parsing `text` throws; fails the test when it does not throw one. */
function issuesOf(text: string, file = 'scn.yaml'): ScenarioIssue[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).issues;
  }
  expect.fail('the scenario was accepted');
}

/** A minimal valid scenario with `extra` lines inserted after `name:` (line 2 onward). */
const withLines = (...lines: string[]) =>
  ['name: t', ...lines, 'guests:', '  vm1:', '    memory: { ram: 512M }', 'steps:', '  - boot: vm1', ''].join('\n');

describe('parseScenario on a valid scenario', () => {
  const { scenario, file } = parseScenario(VALID, 'scenarios/valid.yaml');

  it('keeps the file name', () => {
    expect(file).toBe('scenarios/valid.yaml');
  });

  it('parses file sizes, including differences', () => {
    expect(scenario.files).toEqual({
      plain: { size: G, writable: false },
      big: { size: 2 * G - 128 * K, writable: false },
    });
  });

  it("leaves the machine type to the run's, with nvdimm=on, share to on, RAM to 512M and nvdimms to none", () => {
    const vm1 = scenario.guests.vm1!;
    expect(vm1.machine).toEqual({ nvdimm: true });
    expect(scenario.machines).toEqual(['pc', 'q35', 'virt']);
    expect(vm1.memory).toEqual({ ram: 256 * M, slots: 2, maxmem: 4 * G });
    expect(vm1.nvdimms[0]).toEqual({ id: 'nv1', backend: { file: 'plain', share: true } });
    expect(vm1.nvdimms[1]).toEqual({ id: 'nv2', backend: { file: 'big', size: G, share: false }, 'label-size': 128 * K });
    const vm2 = scenario.guests.vm2!;
    expect(vm2.machine).toEqual({ type: 'q35', nvdimm: true });
    expect(vm2.memory).toEqual({ ram: 512 * M });
    expect(vm2.nvdimms).toEqual([]);
  });

  it('defaults the QEMU range to any version and the files to none', () => {
    expect(scenario.qemu).toBe('*');
    const { scenario: bare } = parseScenario(withLines(), 'bare.yaml');
    expect(bare.files).toEqual({});
    expect(bare.qemu).toBe('*');
  });

  it('reads steps: a guest list, name and when, sizes in expectations, default exit status', () => {
    expect(scenario.steps[0]).toEqual({ boot: ['vm1', 'vm2'] });
    expect(scenario.steps[1]).toMatchObject({
      name: 'the region',
      when: { qemu: '<10.0' },
      'expect-ndctl': { guest: 'vm1', dimms: 2, regions: [{ size: G - 128 * K, type: 'pmem' }] },
    });
    expect(scenario.steps[2]).toMatchObject({ run: { guest: 'vm1', command: 'ndctl list -N', exit: 0, output: 'raw' } });
    // A single guest is made a list of one.
    expect(scenario.steps[3]).toEqual({ stop: ['vm1'] });
  });

  it('takes share as on/off or true/false', () => {
    const text = (share: string) =>
      `name: t\nfiles:\n  f: { size: 1G }\nguests:\n  vm1:\n    memory: {}\n    nvdimms: [{ id: nv1, backend: { file: f, share: ${share} } }]\nsteps:\n  - boot: vm1\n`;
    const share = (s: string) => parseScenario(text(s), 's.yaml').scenario.guests.vm1!.nvdimms[0]!.backend.share;
    expect(share('on')).toBe(true);
    expect(share('true')).toBe(true);
    expect(share('off')).toBe(false);
    expect(share('false')).toBe(false);
  });
});

describe('parseScenario errors', () => {
  it('points an unknown key at the key itself', () => {
    const issues = issuesOf(
      ['name: t', 'guests:', '  vm1:', '    memory: { ram: 512M }', '    vcpus: 4', 'steps:', '  - boot: vm1', ''].join('\n'),
    );
    expect(issues).toEqual([{ file: 'scn.yaml', line: 5, column: 5, message: 'guests.vm1: unknown key "vcpus"' }]);
  });

  it('points an unknown key inside a flow mapping at the key, and names every unknown key', () => {
    const issues = issuesOf(
      ['name: t', 'guests:', '  vm1:', '    memory: { ram: 512M, size: 1G, cpus: 2 }', 'steps:', '  - boot: vm1', ''].join('\n'),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 4, column: 26, message: 'guests.vm1.memory: unknown keys "size", "cpus"' });
  });

  it('points a bad size at the value, and says what a size is', () => {
    const issues = issuesOf(['name: t', 'guests:', '  vm1:', '    memory:', '      ram: 12Q', 'steps:', '  - boot: vm1', ''].join('\n'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 5, column: 12 });
    expect(issues[0]!.message).toBe(
      'guests.vm1.memory.ram: "12Q" is not a size: expected bytes or a number with a unit K, M, G or T (e.g. 512M, 1G, 128K, 1G - 128K)',
    );
  });

  it('points a wrong type at the value', () => {
    const issues = issuesOf(withLines('qemu: banana'));
    expect(issues).toEqual([
      { file: 'scn.yaml', line: 2, column: 7, message: 'qemu: expected a version range such as ">=2.8", "<10.0" or "7.2.x"' },
    ]);
  });

  it('reports every schema problem of a file at once, each at its place', () => {
    const issues = issuesOf(
      ['name: t', 'colour: red', 'guests:', '  vm1:', '    memory: { ram: 1.5.3G, slots: two }', 'steps: []', ''].join('\n'),
    );
    const byPosition = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    expect(byPosition.map((i) => `${i.line}:${i.column} ${i.message.split(':')[0]}`)).toEqual([
      '2:1 unknown key "colour"',
      '5:20 guests.vm1.memory.ram',
      '5:35 guests.vm1.memory.slots',
      '6:8 steps',
    ]);
  });

  it('reports YAML syntax errors with their position and a YAML: prefix', () => {
    const tab = issuesOf('name: t\nguests:\n  vm1:\n\tmemory: {}\n');
    expect(tab).toEqual([{ file: 'scn.yaml', line: 4, column: 1, message: 'YAML: Tabs are not allowed as indentation' }]);
    const dup = issuesOf(withLines('qemu: ">=2.8"', 'qemu: ">=7.0"'));
    expect(dup).toEqual([{ file: 'scn.yaml', line: 3, column: 1, message: 'YAML: Map keys must be unique' }]);
    const unclosed = issuesOf('name: t\nguests: { vm1: { memory: {} }\nsteps:\n  - boot: vm1\n');
    expect(unclosed[0]).toMatchObject({ line: 3, column: 1 });
    expect(unclosed[0]!.message).toMatch(/^YAML: Flow map .* end with a \}$/);
  });

  it('keeps only the first line of a YAML error message', () => {
    for (const i of issuesOf('name: [a\nsteps: b: c\n')) expect(i.message).not.toContain('\n');
  });

  it('formats the message as file:line:column: message, one issue per line', () => {
    try {
      parseScenario(['name: t', 'bogus: 1', 'guests:', '  vm1:', '    memory: { ram: 12Q }', 'steps: []', ''].join('\n'), 'dir/s.yaml');
      expect.fail('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      expect((e as Error).name).toBe('ScenarioError');
      const lines = (e as Error).message.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines).toContain('dir/s.yaml:2:1: unknown key "bogus"');
      expect(lines).toContainEqual(expect.stringMatching(/^dir\/s\.yaml:5:20: guests\.vm1\.memory\.ram: "12Q" is not a size/));
      expect(lines).toContain('dir/s.yaml:6:8: steps: Too small: expected array to have >=1 items');
    }
  });

  it('refuses an id with a comma, which would add a QEMU option', () => {
    const text = `name: t\nfiles:\n  f: { size: 1G }\nguests:\n  vm1:\n    memory: {}\n    nvdimms:\n      - { id: "nv1,share=off", backend: { file: f } }\nsteps:\n  - boot: vm1\n`;
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      line: 8,
      column: 15,
      message: expect.stringContaining('guests.vm1.nvdimms.0.id: expected a name of letters'),
    });
  });
});

describe('loadScenarioFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvdimm-harness-load-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file and names it as it was given', () => {
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, VALID);
    const loaded = loadScenarioFile(path);
    expect(loaded.file).toBe(path);
    expect(loaded.scenario.name).toBe('valid');
  });

  it('lists the problems of a file by line, not in the order the schema finds them', () => {
    // The schema checks `name` before `steps`, so it finds the problem on line 6 before the one on line 1.
    const text = ['steps: []', 'guests:', '  vm1:', '    memory: {}', '# the name comes last', 'name: 5', ''].join('\n');
    expect(scenarioSchema.safeParse(parse(text)).error?.issues.map((i) => i.path[0])).toEqual(['name', 'steps']);
    const path = join(dir, 'two-problems.yaml');
    writeFileSync(path, text);
    let error: unknown;
    try {
      loadScenarioFile(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const { issues, message } = error as ScenarioError;
    expect(issues.map((i) => `${i.line}:${i.column} ${i.message.split(':')[0]}`)).toEqual(['1:8 steps', '6:7 name']);
    expect(
      message.split('\n').map((l) =>
        l
          .slice(path.length + 1)
          .split(':')
          .slice(0, 2)
          .join(':'),
      ),
    ).toEqual(['1:8', '6:7']);
  });

  it('reports an unreadable file at 1:1, with the reason', () => {
    const path = join(dir, 'missing.yaml');
    expect(() => loadScenarioFile(path)).toThrow(ScenarioError);
    expect(() => loadScenarioFile(path)).toThrow(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:1: cannot read the scenario: ENOENT`),
    );
  });
});

describe('hostile input is refused in bounded time and memory, with a position', () => {
  const refusal = (text: string): ScenarioIssue[] => {
    try {
      parseScenario(text, 'h.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      return (e as ScenarioError).issues;
    }
    throw new Error('the scenario was accepted');
  };

  it('nesting 100,000 deep', () => {
    const [issue] = refusal(`name: deep\nguests: ${'['.repeat(100_000)}${']'.repeat(100_000)}\nsteps: [{ boot: a }]\n`);
    expect(issue!.message).toMatch(/nested too deeply|YAML/);
  });

  it('an alias bomb ("billion laughs")', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      levels.push(`${n}: &${n} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]`);
    }
    const [issue] = refusal(`${levels.join('\n')}\nname: bomb\nguests: {}\nsteps: [{ boot: a }]\n`);
    expect(issue).toMatchObject({ line: 1, column: 1, message: 'YAML: more than 100 alias expansions' });
  });

  it('a file over 256 KiB, unread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvdimm-harness-hostile-'));
    try {
      const file = join(dir, 'big.yaml');
      writeFileSync(file, `name: big\n# ${'x'.repeat(300 * 1024)}\n`);
      expect(() => loadScenarioFile(file)).toThrow(/more than the 256 KiB a scenario may have/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
