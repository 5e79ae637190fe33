import { z } from 'zod';
import type { CellReport, Column, StepResult } from './cell-report.js';

/**
 * The matrix's results as one document: a column per QEMU build x image x machine type (its shards merged),
 * a row per scenario file, and in each place the scenario ran its verdict, step counts, time, guest boot
 * times and the first failed step. Written as the run's JSON summary and read back as `--previous`, so its
 * shape is a zod schema.
 */

export const SUMMARY_FORMAT = 'nvdimm-harness-matrix/1';

/** Longest failure message or evidence kept: the page for the whole matrix stays well under 1 MB. */
const MESSAGE_LIMIT = 2000;
const EVIDENCE_LIMIT = 6000;

const column = z.object({ id: z.string(), qemu: z.string(), image: z.string(), machine: z.string() });

const failure = z.object({
  /** 1-based position of the step in the scenario. */
  step: z.int(),
  name: z.string(),
  message: z.string(),
  evidence: z.string(),
});

const entry = z.object({
  scenario: z.string(),
  column: z.string(),
  /** skipped: every step skipped (out of the scenario's QEMU range, not for this machine type). */
  status: z.enum(['passed', 'failed', 'skipped']),
  steps: z.object({ passed: z.int(), failed: z.int(), skipped: z.int() }),
  /** Distinct reasons of the skipped steps. */
  skipReasons: z.array(z.string()),
  seconds: z.number(),
  /** Mean seconds from QEMU's start to SSH answering, over the scenario's guest boots. */
  bootSeconds: z.number().optional(),
  failure: failure.optional(),
});

export const summarySchema = z.object({
  format: z.literal(SUMMARY_FORMAT),
  generatedAt: z.string(),
  reports: z.array(z.string()),
  columns: z.array(column),
  scenarios: z.array(z.object({ file: z.string(), title: z.string() })),
  entries: z.array(entry),
});

export type Summary = z.infer<typeof summarySchema>;
export type Entry = z.infer<typeof entry>;
export type Status = Entry['status'];

function clip(text: string, limit: number, keep: 'head' | 'tail'): string {
  if (text.length <= limit) return text;
  const note = `[${text.length - limit} characters cut; the whole text is in the cell's JUnit report]`;
  return keep === 'head' ? `${text.slice(0, limit)}\n${note}` : `${note}\n${text.slice(-limit)}`;
}

const QEMU_ORDER = (v: string) =>
  v
    .split('.')
    .map((p) => p.padStart(4, '0'))
    .join('.');

/** The summary of these reports; columns by QEMU version, image, machine type, rows by file name. */
export function summarize(reports: readonly CellReport[], generatedAt = new Date()): Summary {
  const columns = new Map<string, Column>();
  const titles = new Map<string, string>();
  const steps = new Map<string, { scenario: string; column: string; seconds: number; steps: StepResult[] }>();
  for (const report of reports) {
    columns.set(report.column.id, report.column);
    for (const s of report.scenarios) {
      if (s.title || !titles.has(s.file)) titles.set(s.file, s.title);
      const key = `${s.file}\n${report.column.id}`;
      const place = steps.get(key) ?? { scenario: s.file, column: report.column.id, seconds: 0, steps: [] };
      place.seconds += s.seconds;
      place.steps.push(...s.steps);
      steps.set(key, place);
    }
  }
  const sortedColumns = [...columns.values()].sort(
    (a, b) => QEMU_ORDER(a.qemu).localeCompare(QEMU_ORDER(b.qemu)) || a.image.localeCompare(b.image) || a.machine.localeCompare(b.machine),
  );
  const scenarios = [...titles].sort(([a], [b]) => a.localeCompare(b)).map(([file, title]) => ({ file, title }));
  return {
    format: SUMMARY_FORMAT,
    generatedAt: generatedAt.toISOString(),
    reports: reports.map((r) => r.source).sort(),
    columns: sortedColumns,
    scenarios,
    entries: [...steps.values()].map(({ scenario, column, seconds, steps }) => toEntry(scenario, column, seconds, steps)),
  };
}

function toEntry(scenario: string, column: string, seconds: number, steps: StepResult[]): Entry {
  const count = (status: StepResult['status']) => steps.filter((s) => s.status === status).length;
  const counts = { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
  const boots = steps.flatMap((s) => s.boots);
  const failedAt = steps.findIndex((s) => s.status === 'failed');
  const entry: Entry = {
    scenario,
    column,
    status: counts.failed > 0 ? 'failed' : counts.passed > 0 ? 'passed' : 'skipped',
    steps: counts,
    skipReasons: [...new Set(steps.flatMap((s) => (s.status === 'skipped' && s.skipReason ? [s.skipReason] : [])))],
    seconds: round(seconds),
  };
  if (boots.length) entry.bootSeconds = round(boots.reduce((a, b) => a + b, 0) / boots.length);
  if (failedAt !== -1) {
    const step = steps[failedAt]!;
    entry.failure = {
      step: failedAt + 1,
      name: step.name,
      message: clip(step.failure ?? '', MESSAGE_LIMIT, 'head'),
      // The serial tail and kernel log are at the end: what to keep when it is long.
      evidence: clip(step.evidence ?? '', EVIDENCE_LIMIT, 'tail'),
    };
  }
  return entry;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The entry of a scenario in a column; undefined where it did not run. */
export function entryAt(summary: Summary): (scenario: string, column: string) => Entry | undefined {
  const index = new Map(summary.entries.map((e) => [`${e.scenario}\n${e.column}`, e]));
  return (scenario, column) => index.get(`${scenario}\n${column}`);
}

export interface Totals {
  /** Scenario x column places by verdict; notRun: places with no result. */
  places: Record<Status | 'notRun', number>;
  steps: Record<StepResult['status'], number>;
  /** Seconds of scenario runs, added up. */
  seconds: number;
  /** The slowest scenario runs, slowest first. */
  slowest: Entry[];
}

export function totals(summary: Summary, slowest = 5): Totals {
  const places = { passed: 0, failed: 0, skipped: 0, notRun: summary.scenarios.length * summary.columns.length - summary.entries.length };
  const steps = { passed: 0, failed: 0, skipped: 0 };
  let seconds = 0;
  for (const e of summary.entries) {
    places[e.status]++;
    steps.passed += e.steps.passed;
    steps.failed += e.steps.failed;
    steps.skipped += e.steps.skipped;
    seconds += e.seconds;
  }
  return { places, steps, seconds, slowest: [...summary.entries].sort((a, b) => b.seconds - a.seconds).slice(0, slowest) };
}

/** "7.2, debian-bookworm, pc" */
export function columnLabel(c: Column): string {
  return `${c.qemu}, ${c.image}, ${c.machine}`;
}

/** "2 min 5 s", "41.2 s" */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
