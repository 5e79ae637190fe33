/**
 * The matrix page in a real browser, from real reports: two cells run here through ci/run-cell.mjs (QEMU 7.2
 * with three scenario files, one of them failing on purpose; QEMU 10.0 with one), then their page made by
 * `node ci/report.mjs` as the nightly workflow makes it, opened from disk in Debian's headless Chromium. A screenshot
 * of the page, and the page, are kept in the artifacts folder.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setting } from '../settings.js';

const ROOT = join(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';

/** basic.yaml's first guest and checks, with the NVDIMM's size expected twice too large. */
const FAILING = `name: Deliberately failing — a 1G NVDIMM expected as 2G
qemu: ">=2.8"
files:
  plain: { size: 1G }
guests:
  vm:
    memory: { ram: 512M, slots: 2, maxmem: 2G }
    nvdimms:
      - { id: nv1, backend: { file: plain, size: 1G } }
steps:
  - boot: vm
  - expect-blockdev: { guest: vm, device: /dev/pmem0, size: 2G }
  - stop: vm
`;

let dir: string;
let browser: Browser;
let page: Page;
/** Every request the page made that was not for its own file. */
const outside: string[] = [];
let cellRuns: { cell: string; exitCode: number | undefined; output: string }[];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found: the page test needs Debian's Chromium: apt-get install -y --no-install-recommends chromium (.ci/run installs it)`,
    );
  dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-page-test-'));
  const wide = join(dir, 'scenarios-7.2');
  const narrow = join(dir, 'scenarios-10.0');
  await mkdir(wide);
  await mkdir(narrow);
  for (const f of ['basic.yaml', 'bad-config.yaml']) await copyFile(join(ROOT, 'scenarios', f), join(wide, f));
  await writeFile(join(wide, 'wrong-size.yaml'), FAILING);
  await copyFile(join(ROOT, 'scenarios/bad-config.yaml'), join(narrow, 'bad-config.yaml'));
  cellRuns = [];
  for (const [qemu, scenarios] of [
    ['7.2', wide],
    ['10.0', narrow],
  ] as const) {
    const r = await execa('node', [join(ROOT, 'ci/run-cell.mjs'), qemu, 'debian-bookworm', 'pc', '1/1', scenarios], {
      env: { NVDIMM_HARNESS_CELL_OUTPUT: dir, FORCE_COLOR: '0' },
      all: true,
      reject: false,
    });
    cellRuns.push({ cell: qemu, exitCode: r.exitCode, output: stripVTControlCharacters(r.all ?? '') });
  }
  // The page as the nightly workflow's last job makes it.
  const report = await execa('node', [join(ROOT, 'ci/report.mjs'), join(dir, 'reports')], { reject: false, all: true });
  if (report.exitCode !== 0) throw new Error(`node ci/report.mjs failed:\n${report.all}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const url = pathToFileURL(join(dir, 'reports/matrix.html')).href;
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  await page.goto(url);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const failingCell = () =>
  page
    .locator('tbody tr', { has: page.locator('th', { hasText: 'wrong-size.yaml' }) })
    .locator('td')
    .first();

describe('the matrix page, from two real cells, in headless Chromium', () => {
  it('comes from cells that ran: 7.2 failed on the deliberate failure only, 10.0 passed', () => {
    const [wide, narrow] = cellRuns;
    expect(wide!.exitCode, wide!.output).toBe(1);
    expect(wide!.output).toMatch(/Tests\s+1 failed \| \d+ passed/);
    expect(narrow!.exitCode, narrow!.output).toBe(0);
  });

  it('has a row per scenario file and a column per cell, and asks for nothing outside itself', async () => {
    await expect(page.locator('tbody tr').count()).resolves.toBe(3);
    await expect(page.locator('thead th.column').count()).resolves.toBe(2);
    await expect(page.locator('tbody th').allTextContents()).resolves.toEqual(['bad-config.yaml', 'basic.yaml', 'wrong-size.yaml']);
    await expect(page.locator('thead th.column').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^QEMU 7\.2\s+debian-bookworm\s+pc\s*✓2 ✗1 ↓0$/),
      expect.stringMatching(/^QEMU 10\.0\s+debian-bookworm\s+pc\s*✓1 ✗0 ↓0$/),
    ]);
    // wrong-size.yaml and basic.yaml did not run on 10.0.
    await expect(page.locator('td.not-run').count()).resolves.toBe(2);
    await expect(page.locator('#summary').innerText()).resolves.toMatch(/^3 scenarios x 2 cells: 3 passed, 1 failed, 0 skipped, 2 not run/);
    expect(outside).toEqual([]);
  });

  it('shows the failing cell red, and opens its expected-vs-seen text, command line and serial tail', async () => {
    const cell = failingCell();
    await expect(cell.getAttribute('class')).resolves.toBe('failed');
    await expect(cell.evaluate((td) => getComputedStyle(td).backgroundColor)).resolves.toBe('rgb(244, 180, 180)');
    const detail = page.locator('article.failure');
    await expect(detail.isVisible()).resolves.toBe(false);
    await cell.locator('a').click();
    await expect(detail.isVisible()).resolves.toBe(true);
    const message = await detail.locator('pre.message').innerText();
    expect(message).toMatch(/2G|2147483648/);
    expect(message).toMatch(/1G|1073741824/);
    const evidence = await detail.locator('pre.evidence').innerText();
    expect(evidence).toMatch(/qemu-system-x86_64|ld-linux/);
    expect(evidence).toContain("last lines of vm's serial console:");
  });

  it('filters by QEMU build, image and status', async () => {
    const columns = page.locator('thead th.column');
    await page.selectOption('#filter-qemu', '10.0');
    await expect(columns.evaluateAll((hs) => hs.map((h) => !h.classList.contains('hidden')))).resolves.toEqual([false, true]);
    await page.selectOption('#filter-qemu', '');
    await page.selectOption('#filter-image', 'debian-bookworm');
    await expect(page.locator('thead th.column:not(.hidden)').count()).resolves.toBe(2);
    await page.selectOption('#filter-status', 'failed');
    await expect(page.locator('tbody tr:not(.hidden) th').allTextContents()).resolves.toEqual(['wrong-size.yaml']);
    // Only 10.0's cells shown: no failure among them.
    await page.selectOption('#filter-qemu', '10.0');
    await expect(page.locator('tbody tr:not(.hidden)').count()).resolves.toBe(0);
    await page.selectOption('#filter-status', 'passed');
    await expect(page.locator('tbody tr:not(.hidden) th').allTextContents()).resolves.toEqual(['bad-config.yaml']);
    await page.selectOption('#filter-qemu', '');
    await page.selectOption('#filter-status', '');
    await expect(page.locator('tbody tr:not(.hidden)').count()).resolves.toBe(3);
  });

  it('is kept with a screenshot in the artifacts folder', async () => {
    const kept = join(setting('artifacts'), 'matrix-page');
    await mkdir(kept, { recursive: true });
    await failingCell().locator('a').click();
    await page.screenshot({ path: join(kept, 'matrix.png'), fullPage: true });
    await copyFile(join(dir, 'reports/matrix.html'), join(kept, 'matrix.html'));
    expect((await stat(join(kept, 'matrix.png'))).size).toBeGreaterThan(10_000);
    expect(await readFile(join(kept, 'matrix.html'), 'utf8')).toContain('wrong-size.yaml');
  });
});
