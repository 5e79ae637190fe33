/**
 * Small cell reports shaped as vitest's JUnit reporter writes them for scenario files (testsuite per file,
 * testcase "<scenario> > <step>", boot milestones and skip reasons as properties, evidence in system-out),
 * for the tests of reading, summarising and comparing them.
 */
import { EVIDENCE_HEADER } from '../vitest/project.js';

export interface Case {
  name: string;
  time?: number;
  failure?: string;
  out?: string;
  skipped?: string;
  boots?: number[];
}

const xml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function junit(suites: { file: string; title: string; time?: number; cases: Case[] }[]): string {
  const body = suites.map((s) => {
    const cases = s.cases.map((c) => {
      const props = [
        ...(c.boots ?? []).map((b) => `<property name="notice" value="vm: SSH up after ${b.toFixed(2)} s"></property>`),
        ...(c.skipped ? [`<property name="skipped" value="${xml(c.skipped)}"></property>`] : []),
      ];
      return (
        `<testcase classname="${s.file}" name="${xml(`${s.title} > ${c.name}`)}" time="${c.time ?? 0.5}">\n` +
        (c.out ? `<system-out>\n${xml(c.out)}\n</system-out>\n` : '') +
        (c.skipped ? '<skipped/>\n' : '') +
        (props.length ? `<properties>\n${props.join('\n')}\n</properties>\n` : '') +
        (c.failure
          ? `<failure message="${xml(c.failure)}" type="HarnessError">\nHarnessError: ${xml(c.failure)}\n at x.ts:1:1\n</failure>\n`
          : '') +
        '</testcase>'
      );
    });
    return `<testsuite name="${s.file}" timestamp="2026-11-27T00:00:00.000Z" tests="${cases.length}" failures="0" errors="0" skipped="0" time="${s.time ?? 10}">\n${cases.join('\n')}\n</testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<testsuites name="nvdimm-harness" tests="1" failures="0" errors="0" time="1">\n${body.join('\n')}\n</testsuites>\n`;
}

export const BASIC = 'Basic usage — a file-backed NVDIMM is a pmem region of its size';
export const EVIDENCE = `\n--- step 2 at scenarios/basic.yaml:24:5: QEMU 7.2.19 (Debian bookworm), image debian-bookworm, machine pc, tcg ---
guest vm (running); QEMU command line:
  qemu-system-x86_64 -machine pc,nvdimm=on -m 512M,slots=2,maxmem=2G
last lines of vm's serial console:
  | NVH-READY`;
export const FAILURE = 'expect-blockdev /dev/pmem0: expected size 2147483648 (2G), saw 1073741824 (1G)';

export function basicPassing(boot = 3.1, time = 12): string {
  return junit([
    {
      file: 'scenarios/basic.yaml',
      title: BASIC,
      time,
      cases: [{ name: 'boot nolabel, label', boots: [boot, boot] }, { name: 'expect-ndctl on nolabel' }, { name: 'stop' }],
    },
  ]);
}
export const basicFailing = junit([
  {
    file: 'scenarios/basic.yaml',
    title: BASIC,
    cases: [
      { name: 'boot nolabel, label', boots: [3.4] },
      { name: 'expect-blockdev /dev/pmem0', failure: `${FAILURE}${EVIDENCE}`, out: `${EVIDENCE_HEADER}${EVIDENCE}` },
      { name: 'stop', skipped: 'an earlier step of this scenario failed' },
    ],
  },
]);
export const cxlGated = junit([
  {
    file: 'scenarios/cxl-pmem.yaml',
    title: 'CXL',
    time: 0,
    cases: [
      { name: 'boot vm', skipped: 'this scenario is for machine q35, this run is pc' },
      { name: 'expect-cxl', skipped: 'this scenario is for machine q35, this run is pc' },
    ],
  },
]);

/** A cell's report file name, as ci/run-cell.mjs writes it. */
export const cellFile = (qemu: string, machine = 'pc', shard = '1of1') => `junit-qemu-${qemu}-debian-bookworm-${machine}-${shard}.xml`;
