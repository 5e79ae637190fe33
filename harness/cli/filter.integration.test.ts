/**
 * The CLI on real guests for what a filter and a user's file names can do: `-t` selects checks while the
 * steps that set up their state still run; a filter that selects nothing is not a pass; an existing backend
 * file whose name has a space is hot-plugged through the human monitor; a JUnit report says why steps were skipped;
 * --verbose shows what passing checks saw.
 */
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

const run = (...args: string[]) => execa('node', [CLI, 'run', ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });

describe('nvdimm-harness run', { timeout: 300_000 }, () => {
  it('-t runs the selected checks after the set-up steps they need', async () => {
    // Only the reader's two data checks are selected: the boot and the writer's write must still run.
    const r = await run('scenarios/share-on.yaml', '-t', 'reader: /dev/pmem0');
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/set-up step 1 \(boot writer, reader\)/);
    expect(r.stdout).toMatch(/set-up step 3 \(writer: write pattern/);
    expect(stripVTControlCharacters(r.stdout)).toMatch(/Tests\s+2 passed \| 5 skipped/);
  });

  it('--verbose shows what each passing check saw', async () => {
    const r = await run('scenarios/basic.yaml', '--verbose', '-t', 'ndctl');
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The ndctl listing the check compared, line by line under it.
    expect(r.stdout).toMatch(/ndctl lists .*\n.*saw:\n(.*\| .*\n)*.*\|\s+"dev":"region\d+"/);
  });

  it('a filter that matches no step is not a pass', async () => {
    const r = await run('scenarios/basic.yaml', '-t', 'no step is called this');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no check ran: the filter /no step is called this/ matches no step');
  });

  it('hot-plugs an existing file whose name has a space through the human monitor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-space-test-'));
    try {
      await writeFile(join(dir, 'my disk.img'), '');
      await truncate(join(dir, 'my disk.img'), 128 * 2 ** 20);
      await writeFile(
        join(dir, 'space.yaml'),
        `name: a backend file with a space in its name
files: { disk: { path: "my disk.img", writable: true } }
guests: { vm: { memory: { ram: 512M, slots: 2, maxmem: 2G } } }
steps:
  - boot: vm
  - hotplug: { guest: vm, id: nv1, backend: { file: disk }, via: hmp }
  - expect-ndctl: { guest: vm, dimms: 1, regions: [{ size: 128M }] }
`,
      );
      const r = await run(join(dir, 'space.yaml'));
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes a JUnit report named after the project, with the reason of every skipped step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-junit-test-'));
    try {
      const r = await run('scenarios/alignment.yaml', '--output-file', join(dir, 'report.xml'));
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      const xml = await readFile(join(dir, 'report.xml'), 'utf8');
      expect(xml).toMatch(/<testsuites name="nvdimm-harness"/);
      expect(xml).toMatch(/<property name="skipped" value="only for QEMU &gt;=2\.7\.0 &lt;2\.8\.0, this is [\d.]+">/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a JUnit report gives a failed step's serial console and kernel log in its <system-out>, and the terminal shows them once", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-junit-test-'));
    try {
      const broken = (await readFile(join(ROOT, 'scenarios/basic.yaml'), 'utf8')).replace('size: 1G - 128K', 'size: 1G - 256K');
      await writeFile(join(dir, 'broken.yaml'), broken);
      const r = await run(join(dir, 'broken.yaml'), '--output-file', join(dir, 'report.xml'));
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(1);
      const xml = await readFile(join(dir, 'report.xml'), 'utf8');
      const out = /<testcase [^>]*name="[^"]*&gt; label: ndctl lists[^"]*"[^>]*>\s*<system-out>([^]*?)<\/system-out>/.exec(xml)?.[1] ?? '';
      expect(out).toMatch(/last lines of label(&apos;|')s serial console:/);
      expect(out).toMatch(/last \d+ lines of label(&apos;|')s kernel log \(dmesg\):/);
      const terminal = `${r.stdout}\n${r.stderr}`;
      expect(terminal.split("last lines of label's serial console:").length - 1).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
