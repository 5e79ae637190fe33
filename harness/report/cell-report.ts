import { basename } from 'node:path';
import { MACHINE_TYPES } from '../settings.js';
import { EVIDENCE_HEADER } from '../vitest/project.js';
import { parseXml, XmlError, type XmlElement } from './xml.js';

/**
 * One cell's report (a shard of QEMU build x image x machine type), as `ci/run-cell.mjs` writes it, read
 * into the steps of each scenario file it ran. JUnit is what CI uploads; vitest's JSON (`run --reporter
 * json`) is read too, but carries no boot times, skip reasons or evidence.
 */

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  /** The step's title, as the scenario's test is named after it. */
  name: string;
  status: StepStatus;
  seconds: number;
  /** Why a skipped step was skipped (out of a QEMU range, not for this machine, an earlier step failed). */
  skipReason?: string;
  /** The check's own words (expected vs seen), without the evidence that follows them. */
  failure?: string;
  /** Where it ran, how to rerun it, each guest's QEMU command line, serial tail and kernel log. */
  evidence?: string;
  /** Each guest boot's seconds until SSH answered. */
  boots: number[];
}

export interface ScenarioResult {
  /** The scenario file's name (`basic.yaml`): rows are keyed by it, wherever the file was run from. */
  file: string;
  /** The scenario's `name:`. */
  title: string;
  seconds: number;
  steps: StepResult[];
}

/** A column of the page: one QEMU build, image and machine type, all shards together. */
export interface Column {
  /** `qemu-7.2-debian-bookworm-pc` */
  id: string;
  qemu: string;
  image: string;
  machine: string;
}

export interface CellReport {
  /** The report's file name. */
  source: string;
  column: Column;
  /** "i/n" */
  shard: string;
  scenarios: ScenarioResult[];
}

export class ReportError extends Error {}

/** `...qemu-7.2-debian-bookworm-pc-1of2.xml`, as ci/run-cell.mjs names a cell's report (harness/ci/matrix.ts, cellId). */
const CELL_FILE = new RegExp(`qemu-([^-/]+)-([A-Za-z0-9][A-Za-z0-9._-]*)-(${MACHINE_TYPES.join('|')})-(\\d+)of(\\d+)\\.(xml|json)$`);

/** Whether a file name is a cell's report; other files among the artifacts are not read. */
export function isCellReport(name: string): boolean {
  return CELL_FILE.test(basename(name));
}

/** Reads one report; throws ReportError naming the file when its name or content is not a cell's report. */
export function readCellReport(name: string, text: string): CellReport {
  const source = basename(name);
  const m = CELL_FILE.exec(source);
  if (!m) throw new ReportError(`${name}: not a cell's report: expected a name ending in qemu-QEMU-IMAGE-MACHINE-IofN.xml or .json`);
  const [, qemu, image, machine, i, n, kind] = m as unknown as [string, string, string, string, string, string, string];
  const column: Column = { id: `qemu-${qemu}-${image}-${machine}`, qemu, image, machine };
  try {
    const scenarios = kind === 'xml' ? fromJunit(text) : fromVitestJson(text);
    return { source, column, shard: `${i}/${n}`, scenarios };
  } catch (e) {
    if (e instanceof XmlError || e instanceof SyntaxError || e instanceof ReportError) throw new ReportError(`${name}: ${e.message}`);
    throw e;
  }
}

/** The annotation type a skipped step states its reason under (harness/vitest/project.ts, SKIP_ANNOTATION). */
const SKIP_PROPERTY = 'skipped';
const BOOT = /: SSH up after ([\d.]+) s$/;

/** A failure message is the check's words, then failureContext's evidence (harness/engine/report.ts). */
function splitMessage(message: string): { words: string; context: string } {
  const at = message.indexOf('\n--- step ');
  return at === -1
    ? { words: message.trim(), context: '' }
    : { words: message.slice(0, at).trim(), context: message.slice(at + 1).trimEnd() };
}

function fromJunit(text: string): ScenarioResult[] {
  const root = parseXml(text);
  if (root.name !== 'testsuites' && root.name !== 'testsuite') throw new ReportError(`expected <testsuites>, found <${root.name}>`);
  const suites = root.name === 'testsuite' ? [root] : root.children.filter((c) => c.name === 'testsuite');
  return suites.map((suite) => {
    const cases = suite.children.filter((c) => c.name === 'testcase');
    const steps = cases.map(junitStep);
    return {
      file: basename(suite.attributes.name ?? '?'),
      title: scenarioTitle(cases.map((c) => c.attributes.name ?? '')),
      seconds: Number(suite.attributes.time) || steps.reduce((s, t) => s + t.seconds, 0),
      steps,
    };
  });
}

function junitStep(testcase: XmlElement): StepResult {
  const child = (name: string) => testcase.children.find((c) => c.name === name);
  const properties = child('properties')?.children ?? [];
  const failure = child('failure') ?? child('error');
  const out = child('system-out')?.text;
  const boots = properties.flatMap((p) => {
    const m = BOOT.exec(p.attributes.value ?? '');
    return m ? [Number(m[1])] : [];
  });
  const step: StepResult = {
    name: stepName(testcase.attributes.name ?? ''),
    status: failure ? 'failed' : child('skipped') ? 'skipped' : 'passed',
    seconds: Number(testcase.attributes.time) || 0,
    boots,
  };
  if (step.status === 'skipped') {
    const reason = properties.find((p) => p.attributes.name === SKIP_PROPERTY)?.attributes.value ?? child('skipped')?.attributes.message;
    if (reason) step.skipReason = reason;
  }
  if (failure) {
    const { words, context } = splitMessage(failure.attributes.message ?? failure.text);
    step.failure = words;
    // The evidence as logged for <system-out>, else as the message carries it.
    const evidence = out?.includes(EVIDENCE_HEADER) ? out.slice(out.indexOf(EVIDENCE_HEADER) + EVIDENCE_HEADER.length).trim() : context;
    if (evidence) step.evidence = evidence;
  }
  return step;
}

/** vitest names a test "<describe> > <it>": the scenario's name, then the step's title. */
function stepName(full: string): string {
  const at = full.indexOf(' > ');
  return at === -1 ? full : full.slice(at + 3);
}

function scenarioTitle(fullNames: string[]): string {
  const first = fullNames.find((n) => n.includes(' > '));
  return first ? first.slice(0, first.indexOf(' > ')) : '';
}

interface VitestJson {
  testResults?: {
    name: string;
    startTime?: number;
    endTime?: number;
    assertionResults: { ancestorTitles: string[]; title: string; status: string; duration?: number | null; failureMessages?: string[] }[];
  }[];
}

function fromVitestJson(text: string): ScenarioResult[] {
  const report = JSON.parse(text) as VitestJson;
  if (!Array.isArray(report.testResults)) throw new ReportError('expected vitest JSON with testResults');
  return report.testResults.map((file) => {
    const steps: StepResult[] = file.assertionResults.map((a) => {
      const status: StepStatus = a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped';
      const step: StepResult = { name: a.title, status, seconds: (a.duration ?? 0) / 1000, boots: [] };
      const message = a.failureMessages?.[0];
      if (status === 'failed' && message !== undefined) {
        const { words, context } = splitMessage(message);
        step.failure = words;
        if (context) step.evidence = context;
      }
      return step;
    });
    const seconds = file.startTime && file.endTime ? (file.endTime - file.startTime) / 1000 : steps.reduce((s, t) => s + t.seconds, 0);
    return { file: basename(file.name), title: file.assertionResults[0]?.ancestorTitles[0] ?? '', seconds, steps };
  });
}
