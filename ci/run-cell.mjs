#!/usr/bin/env node
// Runs one cell of the CI matrix (see `nvdimm-harness matrix`) exactly as the nightly workflow does:
//
//   node ci/run-cell.mjs QEMU IMAGE MACHINE SHARD [SCENARIOS]
//   node ci/run-cell.mjs 7.2 debian-bookworm q35 1/2 scenarios
//
// QEMU is a version the harness provisions (5.2, 7.2, 10.0, 11.1), IMAGE a guest image (images/NAME.json),
// MACHINE a machine type (pc or q35; virt for arm64 guests), SHARD i/n, SCENARIOS a scenario file or folder relative to the
// repository root (default: scenarios). Writes the JUnit report to reports/junit-<cell>.xml and keeps the
// logs of failed scenarios (serial consoles, QEMU command lines, QMP transcripts) in artifacts/<cell>/,
// where <cell> is qemu-QEMU-IMAGE-MACHINE-IofN; both in the folder NVDIMM_HARNESS_CELL_OUTPUT (relative to
// the repository root) instead if it is set. The exit status is the run's: 0 passed, 1 a step failed,
// 2 a malformed scenario (or bad arguments here).
import { $, fs, path } from 'zx';

/** The header above, without its comment marks, and exit 2. */
function usage() {
  const lines = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const header = lines.slice(
    1,
    lines.findIndex((l, i) => i > 0 && !l.startsWith('//')),
  );
  console.error(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 4 || args.length > 5) usage();
const qemu = args[0];
const image = args[1];
const machine = args[2];
const shard = args[3];
const scenarios = args[4] || 'scenarios';
if (!['pc', 'q35', 'virt'].includes(machine)) {
  console.error(`run-cell.mjs: MACHINE must be pc, q35 or virt, not "${machine}" (arguments: QEMU IMAGE MACHINE SHARD [SCENARIOS])`);
  process.exit(2);
}
if (!/^[0-9]+\/[0-9]+$/.test(shard)) {
  console.error(`run-cell.mjs: SHARD must be i/n, e.g. 1/2, not "${shard}"`);
  process.exit(2);
}

// Every path below is relative to the repository root, where the harness runs.
const root = path.join(import.meta.dirname, '..');
const cell = `qemu-${qemu}-${image}-${machine}-${shard.replace('/', 'of')}`;
const given = process.env.NVDIMM_HARNESS_CELL_OUTPUT;
const out = given ? `${given.replace(/\/$/, '')}/` : '';
const report = `${out}reports/junit-${cell}.xml`;
const artifacts = `${out}artifacts/${cell}`;

// A rerun of the cell starts clean: no report or logs of an earlier run are mistaken for this one's.
await fs.remove(path.resolve(root, report));
await fs.remove(path.resolve(root, artifacts));
await fs.mkdirp(path.resolve(root, `${out}reports`));

console.error(`cell ${cell}: QEMU ${qemu}, image ${image}, machine ${machine}, shard ${shard} of ${scenarios}`);
const run = $({
  cwd: root,
  env: { ...process.env, NVDIMM_HARNESS_ARTIFACTS: artifacts },
  nothrow: true,
  stdio: 'inherit',
})`node bin/nvdimm-harness.js run ${scenarios} --qemu ${qemu} --image ${image} --machine ${machine} --shard ${shard} --reporter junit --output-file ${report}`;
// Stopping this script stops the run (the shell script exec'd it, so a signal reached the harness itself).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => run.kill(signal).catch(() => {}));
const result = await run;
if (result.signal) {
  // Die of the same signal, as the run did.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(signal);
  process.kill(process.pid, result.signal);
}
process.exitCode = result.exitCode ?? 1;
