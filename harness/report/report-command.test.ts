/**
 * `nvdimm-harness report` and `node ci/report.mjs` as CI and a developer run them, on small reports (no
 * guest): what they write, what they refuse, the README's table, the comparison with the previous run, and
 * the time and size of the page for a matrix of 200 cell reports.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { README_MARKERS } from '../cli/report.js';
import { basicFailing, basicPassing, cellFile, cxlGated, EVIDENCE, FAILURE, junit } from './junit-fixtures.js';
import { EVIDENCE_HEADER } from '../vitest/project.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');
let dir: string;

const report = (...args: string[]) => execa('node', [CLI, 'report', ...args], { cwd: dir, reject: false, env: { FORCE_COLOR: '0' } });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nvh-report-test-'));
  await mkdir(join(dir, 'reports/junit-a'), { recursive: true });
  // As download-artifact leaves them: some in a folder each; other files beside them are not reports.
  await writeFile(join(dir, 'reports/junit-a', cellFile('7.2', 'pc', '1of2')), basicFailing);
  await writeFile(join(dir, 'reports', cellFile('7.2', 'pc', '2of2')), cxlGated);
  await writeFile(join(dir, 'reports', cellFile('10.0')), basicPassing());
  await writeFile(join(dir, 'reports/notes.txt'), 'not a report');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('nvdimm-harness report', () => {
  it('writes the page, the Markdown and the JSON summary of every cell report in reports/', async () => {
    const r = await report();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('3 cell reports -> reports/matrix.html, reports/matrix.md, reports/matrix.json');
    const md = await readFile(join(dir, 'reports/matrix.md'), 'utf8');
    expect(md).toContain('| basic.yaml | **FAIL** at step 2 | pass |');
    expect(JSON.parse(await readFile(join(dir, 'reports/matrix.json'), 'utf8')).entries).toHaveLength(3);
    expect(await readFile(join(dir, 'reports/matrix.html'), 'utf8')).toContain(FAILURE);
  });

  it('leaves out a report it cannot read, naming it, and exits 1', async () => {
    await writeFile(join(dir, 'reports', cellFile('11.1')), '<testsuites><testsuite name="x">');
    const r = await report('reports', '--out', 'page');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/junit-qemu-11\.1-debian-bookworm-pc-1of1\.xml: <testsuite> is not closed \(left out\)/);
    expect(r.stdout).toContain('3 cell reports -> page/matrix.html');
  });

  it('refuses a --previous that is not a summary, a bad --noise, and says so in one line', async () => {
    await writeFile(join(dir, 'old.json'), '{"format": "something else"}');
    const bad = await report('--previous', 'old.json');
    expect([bad.exitCode, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/^--previous old\.json: not a matrix summary written by `nvdimm-harness report`: /),
    ]);
    expect(bad.stderr.split('\n')).toHaveLength(1);
    const noise = await report('--noise', 'lots');
    expect(noise.exitCode).toBe(2);
    expect(noise.stderr).toContain('expected a percentage such as 25, not "lots"');
  });

  it("puts the matrix table between the README's markers, and nowhere else", async () => {
    const readme = join(dir, 'README.md');
    await writeFile(readme, `# x\n\nbefore\n${README_MARKERS.begin}\n| old |\n${README_MARKERS.end}\nafter\n`);
    const r = await report('--readme', readme);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = await readFile(readme, 'utf8');
    expect(text).toMatch(
      /^# x\n\nbefore\n<!-- matrix table: .*-->\n\| scenario \| 7\.2, debian-bookworm, pc \| 10\.0, debian-bookworm, pc \|\n/,
    );
    expect(text).toContain(
      `| cxl-pmem.yaml | skipped (this scenario is for machine q35, this run is pc) | not run |\n${README_MARKERS.end}\nafter\n`,
    );
    expect(text).not.toContain('| old |');
    await writeFile(readme, 'no markers\n');
    expect((await report('--readme', readme)).exitCode).toBe(2);
  });
});

describe('node ci/report.mjs', () => {
  const script = (env: Record<string, string> = {}) =>
    execa('node', [join(ROOT, 'ci/report.mjs'), join(dir, 'reports')], { cwd: dir, reject: false, env: { FORCE_COLOR: '0', ...env } });

  it("compares with the previous run's summary, which it then replaces, and appends the Markdown to the step summary", async () => {
    const first = await script();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toContain('no previous summary at');
    expect(await readFile(join(dir, 'reports/previous/matrix.json'), 'utf8')).toBe(
      await readFile(join(dir, 'reports/matrix.json'), 'utf8'),
    );
    // The next night: 7.2's basic.yaml is fixed, 10.0's breaks.
    await writeFile(join(dir, 'reports/junit-a', cellFile('7.2', 'pc', '1of2')), basicPassing());
    await writeFile(join(dir, 'reports', cellFile('10.0')), basicFailing);
    const summary = join(dir, 'step-summary.md');
    await appendFile(summary, 'earlier step\n');
    const second = await script({ GITHUB_STEP_SUMMARY: summary });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toContain('1 regressions, 1 fixes');
    const md = await readFile(join(dir, 'reports/matrix.md'), 'utf8');
    expect(md).toContain('**Regressions: passed then, fail now** (1)\n\n- basic.yaml on 10.0, debian-bookworm, pc');
    expect(md).toContain('**Fixes: failed then, pass now** (1)\n\n- basic.yaml on 7.2, debian-bookworm, pc');
    expect(await readFile(summary, 'utf8')).toBe(`earlier step\n${md}`);
    const previous = JSON.parse(await readFile(join(dir, 'reports/previous/matrix.json'), 'utf8'));
    expect(previous.entries.find((e: { column: string }) => e.column === 'qemu-10.0-debian-bookworm-pc').status).toBe('failed');
  });
});

describe('a full night', () => {
  it('reads 200 cell reports in under 2 s, into a page under 1 MB', async () => {
    const scenarios = Array.from({ length: 25 }, (_, i) => `scenario-${i}.yaml`);
    const night = join(dir, 'night');
    await mkdir(night);
    const serial = Array.from({ length: 40 }, (_, i) => `  | [   ${i}.000000] a kernel line of the serial console`).join('\n');
    for (let c = 0; c < 200; c++) {
      const qemu = ['5.2', '7.2', '10.0', '11.1'][c % 4]!;
      const image = ['debian-bullseye', 'debian-bookworm', 'debian-trixie', 'debian-sid'][Math.floor(c / 4) % 4]!;
      const machine = c % 32 < 16 ? 'pc' : 'q35';
      const shard = `${Math.floor(c / 32) + 1}of7`;
      // Every 10th cell has a failure with its whole evidence: more than a real night's.
      const text = junit(
        scenarios.map((file, s) => ({
          file: `scenarios/${file}`,
          title: `Scenario ${s}`,
          cases: Array.from({ length: 8 }, (_, k) =>
            c % 10 === 0 && k === 3 && s === c % 25
              ? { name: `step ${k}`, failure: `${FAILURE}${EVIDENCE}\n${serial}`, out: `${EVIDENCE_HEADER}${EVIDENCE}\n${serial}` }
              : { name: `step ${k}`, boots: k === 0 ? [3.2] : [] },
          ),
        })),
      );
      await writeFile(join(night, `junit-qemu-${qemu}-${image}-${machine}-${shard}.xml`), text);
    }
    const started = performance.now();
    const r = await execa(
      'node',
      [
        '--import',
        'tsx',
        '-e',
        `
      const { readFileSync, readdirSync } = await import('node:fs');
      const { readCellReport } = await import(${JSON.stringify(join(ROOT, 'harness/report/cell-report.ts'))});
      const { summarize } = await import(${JSON.stringify(join(ROOT, 'harness/report/summary.ts'))});
      const { renderHtml } = await import(${JSON.stringify(join(ROOT, 'harness/report/html.ts'))});
      const { renderMarkdown } = await import(${JSON.stringify(join(ROOT, 'harness/report/markdown.ts'))});
      const t = performance.now();
      const dir = ${JSON.stringify(night)};
      const summary = summarize(readdirSync(dir).map((f) => readCellReport(f, readFileSync(dir + '/' + f, 'utf8'))));
      const page = renderHtml(summary); renderMarkdown(summary); JSON.stringify(summary);
      console.log(JSON.stringify({ ms: performance.now() - t, bytes: Buffer.byteLength(page), entries: summary.entries.length }));
    `,
      ],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const measured = JSON.parse(r.stdout) as { ms: number; bytes: number; entries: number };
    expect(measured.entries).toBe(25 * 32);
    expect(measured.ms).toBeLessThan(2000);
    expect(measured.bytes).toBeLessThan(1_000_000);
    console.log(
      `200 cell reports: read, summarised and rendered in ${Math.round(measured.ms)} ms; page ${measured.bytes} bytes (whole process ${Math.round(performance.now() - started)} ms)`,
    );
    // And through the command, start to finish (node and tsx starting included).
    const t = performance.now();
    const whole = await report(night, '--out', join(dir, 'night-page'));
    expect(whole.exitCode, whole.stderr).toBe(0);
    console.log(`nvdimm-harness report on 200 cell reports: ${Math.round(performance.now() - t)} ms`);
    expect((await stat(join(dir, 'night-page/matrix.html'))).size).toBeLessThan(1_000_000);
  });
});
