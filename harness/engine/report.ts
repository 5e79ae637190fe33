/**
 * What a person reads beside a failed check or a kept guest: where the scenario ran, how to start each
 * guest by hand, what each console said last, where the logs are, and how to reach guests left running.
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { PlannedStep } from '../scenario/plan.js';
import { shellCommand } from '../qemu/process.js';
import type { KeptGuest, ScenarioRun } from './scenario-run.js';

/** Console lines shown per guest in a failure report. */
const CONSOLE_TAIL_LINES = 12;
/** Kernel log lines shown per running guest; the whole log goes to the artifacts. */
const DMESG_TAIL_LINES = 25;
/** A guest too wedged to answer `dmesg` quickly has nothing to add. */
const DMESG_TIMEOUT_MS = 5000;

/**
 * The kernel log of each running guest (the console runs `quiet`, so it shows no kernel messages): the
 * last lines for the report, the whole log written beside the serial logs, which a failed run keeps.
 */
export async function kernelLogs(run: ScenarioRun): Promise<string> {
  const parts: string[] = [];
  for (const [name, guest] of run.launched) {
    if (!run.isRunning(name)) continue;
    const r = await guest.exec('dmesg', undefined, DMESG_TIMEOUT_MS).catch(() => undefined);
    if (!r || r.code !== 0) continue;
    await writeFile(join(run.dir, `${name}.dmesg.log`), r.stdout, { mode: 0o600 });
    const tail = r.stdout.trimEnd().split('\n').slice(-DMESG_TAIL_LINES);
    parts.push(`last ${tail.length} lines of ${name}'s kernel log (dmesg):`, ...tail.map((l) => `  | ${l}`));
  }
  return parts.join('\n');
}

export function failureContext(run: ScenarioRun, step: PlannedStep, kernel = ''): string {
  const { qemu, image, accel, machine } = run.env;
  const file = relative(process.cwd(), run.plan.file) || run.plan.file;
  const rerun = [
    'npx',
    'nvdimm-harness',
    'run',
    file,
    '--qemu',
    qemu.choice,
    // An arch's default machine type and image need --arch to be chosen again.
    ...(image.arch === 'amd64' ? [] : ['--arch', image.arch]),
    '--image',
    image.name,
    '--machine',
    machine,
    '--accel',
    accel.accel,
  ];
  const lines = [
    '',
    `--- step ${step.index + 1} at ${relative(process.cwd(), step.at) || step.at}: QEMU ${qemu.version} (${qemu.origin}), image ${image.name} (kernel ${image.kernelVersion}), machine ${machine}, ${accel.accel} ---`,
    `rerun this scenario: ${shellCommand(rerun[0]!, rerun.slice(1))}`,
    `  and keep its guests up if it fails: ${shellCommand(rerun[0]!, [...rerun.slice(1), '--keep-on-failure'])}`,
  ];
  for (const [name, guest] of run.launched) {
    lines.push(
      `guest ${name} (${run.isRunning(name) ? 'running' : 'not running'}); QEMU command line:`,
      `  ${guest.commandLine}`,
      `last lines of ${name}'s serial console:`,
      ...guest.console
        .excerpt(undefined, CONSOLE_TAIL_LINES)
        .split('\n')
        .map((l) => `  | ${l}`),
    );
  }
  if (kernel) lines.push(kernel);
  lines.push(
    `serial logs, kernel logs, QEMU command lines and QMP transcripts are kept in ${run.artifactsDir}, with the run's backend files and each guest's command line against them (<guest>.rerun)`,
  );
  return lines.join('\n');
}

export function keepInstructions(file: string, dir: string, kept: { key: string; knownHosts: string; guests: KeptGuest[] }): string {
  if (kept.guests.length === 0) return `${file}: no guest was running to keep`;
  const lines = [`${file}: guests kept running (files in ${dir}):`];
  for (const g of kept.guests) {
    lines.push(`  ${g.name}: ssh -i ${kept.key} -o UserKnownHostsFile=${kept.knownHosts} -p ${g.sshPort} root@127.0.0.1`);
    lines.push(`  ${g.name}: QMP socket ${join(dir, `${g.name}.qmp`)}, serial log ${join(dir, `${g.name}.serial.log`)}`);
  }
  lines.push(`  stop them with: kill ${kept.guests.map((g) => g.pid).join(' ')} (their folder goes at the next run)`);
  return lines.join('\n');
}
