/**
 * Reading cell reports, the summary, the comparison with last night, and what the Markdown and HTML say,
 * on small reports shaped as vitest's JUnit reporter writes them for scenario files.
 */
import { describe, expect, it } from 'vitest';
import { EVIDENCE_HEADER } from '../vitest/project.js';
import { BASIC, basicFailing, basicPassing, cellFile, cxlGated, EVIDENCE, FAILURE, junit } from './junit-fixtures.js';
import { isCellReport, readCellReport, ReportError } from './cell-report.js';
import { compare } from './compare.js';
import { renderHtml } from './html.js';
import { matrixTable, renderMarkdown } from './markdown.js';
import { summarize, summarySchema, totals, type Summary } from './summary.js';
import { parseXml, XmlError } from './xml.js';

const cell = cellFile;

function nightWith(basic72: string, generatedAt: string): Summary {
  return summarize(
    [
      readCellReport(cell('7.2', 'pc', '1of2'), basic72),
      readCellReport(cell('7.2', 'pc', '2of2'), cxlGated),
      readCellReport(cell('10.0'), basicPassing()),
    ],
    new Date(generatedAt),
  );
}

describe('parseXml', () => {
  it('reads elements, attributes, entities and CDATA', () => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><a x="1 &lt; 2" y=\'&#x41;\'><b/><c>t&amp;u<![CDATA[<raw>]]></c></a>');
    expect(root.attributes).toEqual({ x: '1 < 2', y: 'A' });
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(root.children[1]!.text).toBe('t&u<raw>');
  });

  it('refuses what is not well-formed', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(XmlError);
    expect(() => parseXml('<a>')).toThrow(/not closed/);
    expect(() => parseXml('<a x=1></a>')).toThrow(/malformed tag/);
  });
});

describe('readCellReport', () => {
  it('takes the cell from the file name, as ci/run-cell.mjs writes it', () => {
    const r = readCellReport(`downloaded/junit-qemu-10.0-debian-trixie-q35-2of2/${cell('10.0', 'q35', '2of2')}`, basicPassing());
    expect(r.column).toEqual({ id: 'qemu-10.0-debian-bookworm-q35', qemu: '10.0', image: 'debian-bookworm', machine: 'q35' });
    expect(r.shard).toBe('2/2');
    expect(isCellReport('reports/matrix.json')).toBe(false);
    expect(() => readCellReport('report.xml', basicPassing())).toThrow(ReportError);
  });

  it('reads steps, boot times, skip reasons, the check words and the evidence of a failure', () => {
    const [basic] = readCellReport(cell('7.2'), basicFailing).scenarios;
    expect(basic).toMatchObject({ file: 'basic.yaml', title: BASIC, seconds: 10 });
    expect(basic!.steps.map((s) => [s.name, s.status])).toEqual([
      ['boot nolabel, label', 'passed'],
      ['expect-blockdev /dev/pmem0', 'failed'],
      ['stop', 'skipped'],
    ]);
    expect(basic!.steps[0]!.boots).toEqual([3.4]);
    expect(basic!.steps[1]!.failure).toBe(FAILURE);
    expect(basic!.steps[1]!.evidence).toMatch(/^--- step 2 at .*\n[\s\S]*qemu-system-x86_64 -machine pc,nvdimm=on[\s\S]*\| NVH-READY$/);
    expect(basic!.steps[2]!.skipReason).toBe('an earlier step of this scenario failed');
  });

  it('names the file of a report it cannot read', () => {
    expect(() => readCellReport(cell('7.2'), '<testsuites><testsuite>')).toThrow(/junit-qemu-7\.2-.*: <testsuite> is not closed/);
  });

  it("reads vitest's JSON report too", () => {
    const json = JSON.stringify({
      testResults: [
        {
          name: '/repo/scenarios/basic.yaml',
          startTime: 1000,
          endTime: 13000,
          assertionResults: [
            { ancestorTitles: [BASIC], title: 'boot', status: 'passed', duration: 3000, failureMessages: [] },
            {
              ancestorTitles: [BASIC],
              title: 'expect-blockdev',
              status: 'failed',
              duration: 10,
              failureMessages: [`${FAILURE}${EVIDENCE}`],
            },
            { ancestorTitles: [BASIC], title: 'stop', status: 'skipped', failureMessages: [] },
          ],
        },
      ],
    });
    const [basic] = readCellReport('report-qemu-7.2-debian-bookworm-pc-1of1.json', json).scenarios;
    expect(basic).toMatchObject({ file: 'basic.yaml', title: BASIC, seconds: 12 });
    expect(basic!.steps.map((s) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(basic!.steps[1]!.failure).toBe(FAILURE);
  });
});

describe('summarize', () => {
  const summary = nightWith(basicFailing, '2026-11-27T03:00:00Z');

  it('merges shards into a column per QEMU build, image and machine type, by version order', () => {
    expect(summary.columns.map((c) => c.id)).toEqual(['qemu-7.2-debian-bookworm-pc', 'qemu-10.0-debian-bookworm-pc']);
    expect(summary.scenarios.map((s) => s.file)).toEqual(['basic.yaml', 'cxl-pmem.yaml']);
    expect(summarySchema.parse(JSON.parse(JSON.stringify(summary)))).toEqual(summary);
  });

  it('gives each place a verdict, its counts, time, boot time and first failure', () => {
    const at = (s: string, c: string) => summary.entries.find((e) => e.scenario === s && e.column === c);
    expect(at('basic.yaml', 'qemu-7.2-debian-bookworm-pc')).toMatchObject({
      status: 'failed',
      steps: { passed: 1, failed: 1, skipped: 1 },
      bootSeconds: 3.4,
      failure: { step: 2, name: 'expect-blockdev /dev/pmem0', message: FAILURE },
    });
    expect(at('cxl-pmem.yaml', 'qemu-7.2-debian-bookworm-pc')).toMatchObject({
      status: 'skipped',
      skipReasons: ['this scenario is for machine q35, this run is pc'],
    });
    expect(at('basic.yaml', 'qemu-10.0-debian-bookworm-pc')).toMatchObject({ status: 'passed', seconds: 12, bootSeconds: 3.1 });
    expect(at('cxl-pmem.yaml', 'qemu-10.0-debian-bookworm-pc')).toBeUndefined();
    expect(totals(summary).places).toEqual({ passed: 1, failed: 1, skipped: 1, notRun: 1 });
  });

  it('keeps a long failure short enough for the page', () => {
    const long = junit([
      {
        file: 'a.yaml',
        title: 'A',
        cases: [{ name: 's', failure: `x`.repeat(50_000), out: `${EVIDENCE_HEADER}\n${'y'.repeat(50_000)}\nLAST` }],
      },
    ]);
    const [e] = summarize([readCellReport(cell('7.2'), long)]).entries;
    expect(e!.failure!.message.length).toBeLessThan(2200);
    expect(e!.failure!.evidence.length).toBeLessThan(6200);
    expect(e!.failure!.evidence).toMatch(/LAST$/);
  });
});

describe('the Markdown and the page', () => {
  const summary = nightWith(basicFailing, '2026-11-27T03:00:00Z');

  it('tables the matrix in words', () => {
    expect(matrixTable(summary)).toBe(
      [
        '| scenario | 7.2, debian-bookworm, pc | 10.0, debian-bookworm, pc |',
        '| --- | --- | --- |',
        '| basic.yaml | **FAIL** at step 2 | pass |',
        '| cxl-pmem.yaml | skipped (this scenario is for machine q35, this run is pc) | not run |',
      ].join('\n'),
    );
    const md = renderMarkdown(summary);
    expect(md).toContain('2 scenarios x 2 cells: 1 passed, 1 failed, 1 skipped, 1 not run');
    expect(md).toContain(`- basic.yaml on 7.2, debian-bookworm, pc, step 2 (expect-blockdev /dev/pmem0): ${FAILURE}`);
  });

  it('escapes what the reports say, and links a red cell to its failure', () => {
    const html = renderHtml(summary);
    expect(html).toContain('<a href="#failure-1">✗ step 2</a>');
    expect(html).toContain('<article class="failure" id="failure-1">');
    expect(html).toContain('qemu-system-x86_64 -machine pc,nvdimm=on');
    expect(html).not.toMatch(/<(?:link|img|iframe)\b|\bsrc=|https?:\/\//);
    const evil = junit([{ file: 'x.yaml', title: '<script>alert(1)</script>', cases: [{ name: 's', failure: '<img src=x>' }] }]);
    const page = renderHtml(summarize([readCellReport(cell('7.2'), evil)]));
    expect(page).not.toContain('<img src=x>');
    expect(page).toContain('&lt;img src=x&gt;');
  });
});

describe('compare: since last night', () => {
  it('lists regressions, fixes, new and removed scenarios, and time changes beyond the noise', () => {
    const before = summarize(
      [
        readCellReport(cell('7.2'), basicPassing(3.0, 12)),
        readCellReport(cell('10.0'), basicFailing),
        readCellReport(cell('5.2'), cxlGated),
      ],
      new Date('2026-11-26T03:00:00Z'),
    );
    const after = summarize(
      [
        readCellReport(cell('7.2'), basicFailing),
        readCellReport(cell('10.0'), basicPassing()),
        readCellReport(cell('11.1'), basicPassing(3.2, 30)),
        readCellReport(cell('11.1', 'pc', '2of2'), junit([{ file: 'new.yaml', title: 'N', cases: [{ name: 's' }] }])),
      ],
      new Date('2026-11-27T03:00:00Z'),
    );
    const previousWith11 = summarize(
      [
        ...['7.2', '10.0', '5.2'].map((q, i) => readCellReport(cell(q), [basicPassing(3.0, 12), basicFailing, cxlGated][i]!)),
        readCellReport(cell('11.1'), basicPassing(1.5, 12.5)),
      ],
      new Date('2026-11-26T03:00:00Z'),
    );
    const changes = compare(previousWith11, after);
    expect(changes.since).toBe('2026-11-26T03:00:00.000Z');
    expect(changes.regressions).toEqual([{ scenario: 'basic.yaml', column: 'qemu-7.2-debian-bookworm-pc' }]);
    expect(changes.fixes).toEqual([{ scenario: 'basic.yaml', column: 'qemu-10.0-debian-bookworm-pc' }]);
    expect(changes.newScenarios).toEqual(['new.yaml']);
    expect(changes.removedScenarios).toEqual(['cxl-pmem.yaml']);
    expect(changes.durations).toEqual([{ scenario: 'basic.yaml', column: 'qemu-11.1-debian-bookworm-pc', before: 12.5, after: 30 }]);
    expect(changes.boots).toEqual([{ scenario: 'basic.yaml', column: 'qemu-11.1-debian-bookworm-pc', before: 1.5, after: 3.2 }]);
    // Within the noise: 12 s -> 12 s, boot 3.0 s -> 3.1 s, and a 4 s change of a short run.
    expect(compare(before, summarize([readCellReport(cell('7.2'), basicPassing(3.1, 16))])).durations).toEqual([]);
    const md = renderMarkdown(after, changes);
    expect(md).toContain('**Regressions: passed then, fail now** (1)\n\n- basic.yaml on 7.2, debian-bookworm, pc');
    expect(md).toContain('- basic.yaml on 11.1, debian-bookworm, pc: 12.5 s -> 30.0 s');
    expect(renderHtml(after, changes)).toContain('<ul id="regressions"><li>basic.yaml on 7.2, debian-bookworm, pc</li></ul>');
  });
});
