import { anyChange, type Changes, type TimeChange } from './compare.js';
import { columnLabel, duration, entryAt, totals, type Entry, type Summary } from './summary.js';

/**
 * The Markdown summary: the headline, since last night, the matrix table (scenario rows, cell columns) and
 * the failures' first lines. For `$GITHUB_STEP_SUMMARY`, and the README's matrix table is this table.
 */

/** Text inside a table cell: no pipe or line break may end it. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** What a scenario did in one column, in words. */
export function verdict(e: Entry | undefined): string {
  if (!e) return 'not run';
  const reasons = e.skipReasons.length ? ` (${e.skipReasons.join('; ')})` : '';
  if (e.status === 'failed') return `**FAIL** at step ${e.failure?.step ?? '?'}`;
  if (e.status === 'skipped') return `skipped${reasons}`;
  return e.steps.skipped ? `pass, ${e.steps.skipped} skipped${reasons}` : 'pass';
}

export function headline(summary: Summary): string {
  const t = totals(summary, 3);
  const slowest = t.slowest.map((e) => `${e.scenario} on ${columnOf(summary, e.column)} (${duration(e.seconds)})`).join(', ');
  return (
    `${summary.scenarios.length} scenarios x ${summary.columns.length} cells: ` +
    `${t.places.passed} passed, ${t.places.failed} failed, ${t.places.skipped} skipped, ${t.places.notRun} not run ` +
    `(steps: ${t.steps.passed} passed, ${t.steps.failed} failed, ${t.steps.skipped} skipped); ` +
    `${duration(t.seconds)} of scenario runs` +
    (slowest ? `; slowest: ${slowest}` : '')
  );
}

function columnOf(summary: Summary, id: string): string {
  const c = summary.columns.find((x) => x.id === id);
  return c ? columnLabel(c) : id;
}

/** The matrix as a Markdown table, and nothing else: what the README shows. */
export function matrixTable(summary: Summary): string {
  const at = entryAt(summary);
  const lines = [
    `| scenario | ${summary.columns.map((c) => cell(columnLabel(c))).join(' | ')} |`,
    `| --- | ${summary.columns.map(() => '---').join(' | ')} |`,
  ];
  for (const s of summary.scenarios)
    lines.push(`| ${cell(s.file)} | ${summary.columns.map((c) => cell(verdict(at(s.file, c.id)))).join(' | ')} |`);
  return lines.join('\n');
}

function changesSection(summary: Summary, changes: Changes): string[] {
  const where = (p: { scenario: string; column: string }) => `${p.scenario} on ${columnOf(summary, p.column)}`;
  const time = (c: TimeChange) => `${where(c)}: ${duration(c.before)} -> ${duration(c.after)}`;
  const lines = [`## Since last night (${changes.since})`, ''];
  if (!anyChange(changes)) return [...lines, 'No change.', ''];
  const list = (title: string, items: string[]) =>
    items.length ? [`**${title}** (${items.length})`, '', ...items.map((i) => `- ${i}`), ''] : [];
  return [
    ...lines,
    ...list('Regressions: passed then, fail now', changes.regressions.map(where)),
    ...list('Fixes: failed then, pass now', changes.fixes.map(where)),
    ...list('New scenarios', changes.newScenarios),
    ...list('Removed scenarios', changes.removedScenarios),
    ...list('Run time changed', changes.durations.map(time)),
    ...list('Boot time changed', changes.boots.map(time)),
  ];
}

export function renderMarkdown(summary: Summary, changes?: Changes): string {
  const failures = summary.entries.filter((e) => e.failure);
  const lines = [`# Nightly matrix, ${summary.generatedAt}`, '', headline(summary), ''];
  if (changes) lines.push(...changesSection(summary, changes));
  lines.push('## Matrix', '', matrixTable(summary), '');
  if (failures.length) {
    lines.push('## Failures', '');
    for (const e of failures) {
      const f = e.failure!;
      lines.push(
        `- ${e.scenario} on ${columnOf(summary, e.column)}, step ${f.step} (${cell(f.name)}): ${cell(f.message.split('\n')[0] ?? '')}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
