/**
 * `npm test` runs the full scenario suite on the default QEMU and image (scenarios/*.yaml are test files);
 * here the basic scenario runs, through the real CLI, on every other QEMU version and guest image.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { QEMU_BUILDS } from '../qemu/versions.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

async function basic(args: string[]) {
  const r = await execa('node', [CLI, 'run', 'scenarios/basic.yaml', ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });
  return { code: r.exitCode, output: `${r.stdout}\n${r.stderr}` };
}

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
