import { anyChange, type Changes, type TimeChange } from './compare.js';
import { headline, verdict } from './markdown.js';
import { columnLabel, duration, entryAt, type Entry, type Summary } from './summary.js';

/**
 * The matrix as one self-contained HTML page: no external asset, so it opens from disk or as a CI
 * artifact. The grid is plain HTML; a failed cell links to its failure, shown by CSS `:target`, so opening
 * one needs no script. The one inline script only filters.
 */

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
#summary{margin:.3em 0 1em}
#filters{display:flex;gap:1em;flex-wrap:wrap;margin:.5em 0 1em}
#filters label{display:flex;gap:.3em;align-items:center}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:center;white-space:nowrap}
tbody th{text-align:left;font-weight:normal}
thead th{font-weight:normal;font-size:.9em}
thead .counts{display:block;color:#555}
td.passed{background:#c8efc8}
td.failed{background:#f4b4b4;font-weight:bold}
td.failed a{color:#700}
td.skipped{background:#e4e4e4;color:#555}
td.not-run{background:#fff;color:#aaa}
.hidden{display:none}
.failure{display:none;border:2px solid #c33;padding:.5em 1em;margin:1em 0;max-width:100em}
.failure:target{display:block}
.failure pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;overflow:auto;max-height:40em}
#changes li{margin:.1em 0}
`;

/** Filters: a column is shown when it matches every column filter; a row when one of its shown cells has the status. */
const SCRIPT = `
const grid = document.getElementById('matrix');
const heads = [...grid.querySelectorAll('thead th.column')];
const rows = [...grid.querySelectorAll('tbody tr')];
const pick = (id) => document.getElementById(id).value;
function apply() {
  const want = { qemu: pick('filter-qemu'), image: pick('filter-image'), machine: pick('filter-machine') };
  const status = pick('filter-status');
  const shown = heads.map((h) => Object.entries(want).every(([k, v]) => !v || h.dataset[k] === v));
  heads.forEach((h, i) => h.classList.toggle('hidden', !shown[i]));
  for (const row of rows) {
    const cells = [...row.querySelectorAll('td')];
    cells.forEach((c, i) => c.classList.toggle('hidden', !shown[i]));
    const match = !status || cells.some((c, i) => shown[i] && c.dataset.status === status);
    row.classList.toggle('hidden', !match);
  }
}
for (const s of document.querySelectorAll('#filters select')) s.addEventListener('change', apply);
`;

const SYMBOL = { passed: '✓', failed: '✗', skipped: '↓' } as const;

function gridCell(e: Entry | undefined, failureId: string | undefined): string {
  if (!e) return '<td class="not-run" data-status="not-run" title="not run">–</td>';
  const title = escape(verdict(e).replace(/\*\*/g, ''));
  if (e.status === 'failed')
    return `<td class="failed" data-status="failed" title="${title}"><a href="#${failureId}">${SYMBOL.failed} step ${e.failure?.step ?? '?'}</a></td>`;
  if (e.status === 'skipped') return `<td class="skipped" data-status="skipped" title="${title}">${SYMBOL.skipped} gated</td>`;
  const skipped = e.steps.skipped ? ` <small>${SYMBOL.skipped}${e.steps.skipped}</small>` : '';
  return `<td class="passed" data-status="passed" title="${title}">${SYMBOL.passed} ${e.steps.passed}${skipped}</td>`;
}

function select(id: string, label: string, values: string[], all: string): string {
  const options = values.map((v) => `<option value="${escape(v)}">${escape(v)}</option>`).join('');
  return `<label>${label} <select id="${id}"><option value="">${all}</option>${options}</select></label>`;
}

function changesSection(summary: Summary, changes: Changes): string {
  const label = (id: string) => {
    const c = summary.columns.find((x) => x.id === id);
    return c ? columnLabel(c) : id;
  };
  const where = (p: { scenario: string; column: string }) => `${escape(p.scenario)} on ${escape(label(p.column))}`;
  const time = (c: TimeChange) => `${where(c)}: ${duration(c.before)} → ${duration(c.after)}`;
  const list = (id: string, title: string, items: string[]) =>
    items.length ? `<h3>${title} (${items.length})</h3><ul id="${id}">${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '';
  const body = anyChange(changes)
    ? list('regressions', 'Regressions: passed then, fail now', changes.regressions.map(where)) +
      list('fixes', 'Fixes: failed then, pass now', changes.fixes.map(where)) +
      list('new-scenarios', 'New scenarios', changes.newScenarios.map(escape)) +
      list('removed-scenarios', 'Removed scenarios', changes.removedScenarios.map(escape)) +
      list('durations', 'Run time changed', changes.durations.map(time)) +
      list('boots', 'Boot time changed', changes.boots.map(time))
    : '<p>No change.</p>';
  return `<section id="changes"><h2>Since last night (${escape(changes.since)})</h2>${body}</section>`;
}

export function renderHtml(summary: Summary, changes?: Changes): string {
  const at = entryAt(summary);
  const failures: { id: string; entry: Entry }[] = [];
  const idOf = new Map<Entry, string>();
  for (const e of summary.entries) {
    if (!e.failure) continue;
    const id = `failure-${failures.length + 1}`;
    failures.push({ id, entry: e });
    idOf.set(e, id);
  }
  const heads = summary.columns.map((c) => {
    const here = summary.entries.filter((e) => e.column === c.id);
    const n = (s: Entry['status']) => here.filter((e) => e.status === s).length;
    const counts = `${SYMBOL.passed}${n('passed')} ${SYMBOL.failed}${n('failed')} ${SYMBOL.skipped}${n('skipped')}`;
    return (
      `<th class="column" data-qemu="${escape(c.qemu)}" data-image="${escape(c.image)}" data-machine="${escape(c.machine)}">` +
      `QEMU ${escape(c.qemu)}<br>${escape(c.image)}<br>${escape(c.machine)}<span class="counts">${counts}</span></th>`
    );
  });
  const rows = summary.scenarios.map((s) => {
    const cells = summary.columns.map((c) => {
      const e = at(s.file, c.id);
      return gridCell(e, e && idOf.get(e));
    });
    return `<tr><th title="${escape(s.title)}">${escape(s.file)}</th>${cells.join('')}</tr>`;
  });
  const distinct = (key: 'qemu' | 'image' | 'machine') => [...new Set(summary.columns.map((c) => c[key]))];
  const details = failures.map(({ id, entry: e }) => {
    const f = e.failure!;
    const column = summary.columns.find((c) => c.id === e.column)!;
    return (
      `<article class="failure" id="${id}"><h3>${escape(e.scenario)} on QEMU ${escape(columnLabel(column))}: step ${f.step}, ${escape(f.name)}</h3>` +
      `<h4>Expected vs seen</h4><pre class="message">${escape(f.message)}</pre>` +
      (f.evidence
        ? `<h4>Where it ran, QEMU command lines, serial console and kernel log</h4><pre class="evidence">${escape(f.evidence)}</pre>`
        : '') +
      `<p><a href="#matrix">back to the grid</a></p></article>`
    );
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>nvdimm-harness matrix, ${escape(summary.generatedAt)}</title><style>${STYLE}</style></head>
<body>
<h1>nvdimm-harness nightly matrix</h1>
<p id="summary">${escape(headline(summary))}</p>
<p>Generated ${escape(summary.generatedAt)} from ${summary.reports.length} cell reports. ✓ steps passed, ↓ steps skipped (gated by QEMU version, image or machine type), ✗ the step that failed (open it), – not run.</p>
${changes ? changesSection(summary, changes) : ''}
<form id="filters">${select('filter-qemu', 'QEMU build', distinct('qemu'), 'all')}${select('filter-image', 'Image', distinct('image'), 'all')}${select('filter-machine', 'Machine', distinct('machine'), 'all')}${select('filter-status', 'Status', ['passed', 'failed', 'skipped', 'not-run'], 'any')}</form>
<table id="matrix"><thead><tr><th>scenario</th>${heads.join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<section id="failures">
${details.join('\n')}
</section>
<script>${SCRIPT}</script>
</body></html>
`;
}
