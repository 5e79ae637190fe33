import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, ScenarioError } from './load.js';

/**
 * Every file in fixtures/malformed/ is a scenario with exactly one problem. Its first line says where the
 * loader must report it and what the message must contain: `# expect: LINE:COLUMN <substring>`.
 */
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'malformed');
const ROOT = join(FIXTURES, '../../../..');

interface Fixture {
  name: string;
  path: string;
  line: number;
  column: number;
  substring: string;
}

function fixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const path = join(FIXTURES, name);
      const first = readFileSync(path, 'utf8').split('\n')[0]!;
      const m = /^# expect: (\d+):(\d+) (.+)$/.exec(first);
      if (!m) throw new Error(`${path}: the first line must be "# expect: LINE:COLUMN <substring of the message>"`);
      return { name, path, line: Number(m[1]), column: Number(m[2]), substring: m[3]! };
    });
}

describe('malformed scenarios', () => {
  const all = fixtures();

  it('has a corpus of at least 32 distinct fixtures', () => {
    expect(all.length).toBeGreaterThanOrEqual(32);
    const bodies = all.map((f) => readFileSync(f.path, 'utf8').split('\n').slice(1).join('\n'));
    expect(new Set(bodies).size).toBe(bodies.length);
  });

  it.each(all.map((f) => [f.name, f] as const))('%s is refused at the right place', (_name, f) => {
    let error: unknown;
    try {
      loadScenarioFile(f.path);
    } catch (e) {
      error = e;
    }
    expect(error, 'the scenario was accepted').toBeInstanceOf(ScenarioError);
    const { message, issues } = error as ScenarioError;
    expect(message).toContain(`${f.path}:${f.line}:${f.column}:`);
    expect(message).toContain(f.substring);
    // The position and the substring belong to the same issue.
    const matching = issues.filter((i) => i.line === f.line && i.column === f.column && i.message.includes(f.substring));
    expect(matching, message).toHaveLength(1);
    expect(matching[0]!.file).toBe(f.path);
  });
});

describe('nvdimm-harness run with malformed scenarios', () => {
  it('exits 2, lists every malformed file as file:line:column, and starts no QEMU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvdimm-harness-cli-test-'));
    try {
      const marker = join(dir, 'qemu-was-started');
      const fakeQemu = join(dir, 'qemu-system-x86_64');
      writeFileSync(fakeQemu, `#!/bin/sh\ntouch '${marker}'\necho 'QEMU emulator version 7.2.0'\n`);
      chmodSync(fakeQemu, 0o755);
      const files = ['unknown-key-guest.yaml', 'dangling-step-guest.yaml'].map((f) => relative(ROOT, join(FIXTURES, f)));

      const result = await execa('node', ['bin/nvdimm-harness.js', 'run', ...files], {
        cwd: ROOT,
        env: { NVDIMM_HARNESS_QEMU: fakeQemu, NVDIMM_HARNESS_ACCEL: 'tcg' },
        reject: false,
        timeout: 60_000,
      });

      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${files[0]}:6:5: guests.vm1: unknown key "vcpus"`);
      expect(result.stderr).toContain(`${files[1]}:8:19: step 2.run.guest: no guest "vm2" in \`guests\``);
      expect(result.stderr).toContain('2 malformed scenario file(s); nothing was run.');
      expect(existsSync(marker), 'the fake QEMU was executed').toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
