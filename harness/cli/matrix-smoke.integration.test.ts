/**
 * `npm test` runs the full scenario suite on the default QEMU, image and machine (scenarios/*.yaml are test
 * files); here the basic scenario runs, through the real CLI, on every other QEMU version and guest image,
 * and the q35-only CXL scenario and the machine-dependent unplug scenario on q35; and basic usage once on an
 * arm64 guest, the one arm64 scenario `npm test` runs (the nightly matrix runs the rest on virt).
 */
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { QEMU_BUILDS } from '../qemu/versions.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

async function runScenario(file: string, args: string[]) {
  const r = await execa('node', [CLI, 'run', file, ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });
  return { code: r.exitCode, output: stripVTControlCharacters(`${r.stdout}\n${r.stderr}`) };
}
const basic = (args: string[]) => runScenario('scenarios/basic.yaml', args);

// Fetching a QEMU or building an image for the first time takes a while.
describe('scenarios/basic.yaml on every QEMU version and guest image', { timeout: 600_000 }, () => {
  for (const { suite, version } of QEMU_BUILDS.filter((s) => s.suite !== 'bookworm')) {
    it(`passes on QEMU ${version} (Debian ${suite})`, async () => {
      const { code, output } = await basic(['--qemu', version]);
      expect(code, output).toBe(0);
      expect(output).toMatch(new RegExp(`nvdimm-harness: QEMU ${version.replace('.', '\\.')}\\.\\d+ from .*; image debian-bookworm \\(`));
    });
  }

  for (const image of ['debian-bullseye', 'debian-trixie', 'debian-sid']) {
    it(`passes on the ${image} guest image`, async () => {
      const { code, output } = await basic(['--image', image]);
      expect(code, output).toBe(0);
      expect(output).toMatch(new RegExp(`nvdimm-harness: QEMU .*; image ${image} \\(kernel`));
    });
  }
});

describe('the q35 machine type', { timeout: 600_000 }, () => {
  it('runs CXL persistent memory end to end on QEMU 10.0', async () => {
    const { code, output } = await runScenario('scenarios/cxl-pmem.yaml', ['--machine', 'q35', '--qemu', '10.0']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/machine q35;/);
    expect(output).toMatch(/Tests\s+15 passed/);
  });

  it("checks q35's own unplug refusal of a device on its root bus", async () => {
    const { code, output } = await runScenario('scenarios/unplug.yaml', ['--machine', 'q35']);
    expect(code, output).toBe(0);
    // Its pc step is skipped for the machine, and its q35 step ran.
    expect(output).toMatch(/only for machine pc, this is q35/);
    expect(output).toMatch(/Tests\s+\d+ passed \| 1 skipped/);
  });
});

describe('arm64 guests', { timeout: 600_000 }, () => {
  it('pass basic usage on the virt machine under TCG, booted through UEFI', async () => {
    const { code, output } = await basic(['--arch', 'arm64']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/image debian-bookworm-arm64 \(kernel [^)]*-arm64\); machine virt; accelerator tcg/);
    expect(output).toMatch(/Tests\s+5 passed/);
  });
});
