#!/usr/bin/env node
// The nightly workflow's last job, and the end of a local `nvdimm-harness matrix --run`:
//
//   node ci/report.mjs [REPORTS]
//
// Writes REPORTS/matrix.html, matrix.md and matrix.json (`nvdimm-harness report`) from every cell's report
// in REPORTS (default: reports), compared with the previous run's summary in REPORTS/previous/matrix.json
// when there is one, which this run's summary then replaces for the next. The Markdown is appended to
// $GITHUB_STEP_SUMMARY when that is set. The exit status is `report`'s.
import { $, fs, path } from 'zx';

const root = path.join(import.meta.dirname, '..');
const reports = path.resolve(process.argv[2] ?? path.join(root, 'reports'));
const previous = path.join(reports, 'previous', 'matrix.json');

const written = path.join(reports, 'matrix.json');
// A summary left from an earlier run must not pass for this run's.
await fs.remove(written);
const compared = (await fs.pathExists(previous)) ? ['--previous', previous] : [];
if (!compared.length) console.error(`no previous summary at ${previous}: nothing to compare with this time`);
const result = await $({
  cwd: root,
  nothrow: true,
  stdio: 'inherit',
})`node bin/nvdimm-harness.js report ${reports} --out ${reports} ${compared}`;
if (await fs.pathExists(written)) {
  if (process.env.GITHUB_STEP_SUMMARY)
    await fs.appendFile(process.env.GITHUB_STEP_SUMMARY, await fs.readFile(path.join(reports, 'matrix.md')));
  // Only after `report` has read it: the next run compares with this one.
  await fs.copy(written, previous);
}
process.exitCode = result.exitCode ?? 1;
