import { relative } from 'node:path';
import type { Command } from 'commander';
import type { Step } from '../scenario/schema.js';
import { actionOf } from '../scenario/plan.js';
import { prepareEnvironment } from '../engine/environment.js';
import { failureContext, kernelLogs } from '../engine/report.js';
import { ScenarioRun } from '../engine/scenario-run.js';
import { runSteps, stepTitle } from '../engine/steps/index.js';
import { addSettingOptions, chosenSettings, exportSettings, GUEST_SETTINGS, setting } from '../settings.js';
import { loadAll } from './scenario-files.js';

interface ShellOptions {
  guest?: string;
  until?: string;
  qemu?: string;
  kernel?: string;
  modules?: string;
  image?: string;
  arch?: string;
  machine?: string;
  accel?: string;
}

/** The steps to run before the shell opens: up to --until (a number or part of a step's name), else up to the guest's boot. */
function stepsBefore(steps: Step[], guest: string, until: string | undefined): Step[] | string {
  if (until !== undefined) {
    const index = /^\d+$/.test(until) ? Number(until) - 1 : steps.findIndex((s) => stepTitle(s).includes(until));
    if (index < 0 || index >= steps.length)
      return `no step ${/^\d+$/.test(until) ? `number ${until}` : `named like "${until}"`} (the scenario has ${steps.length})`;
    return steps.slice(0, index + 1);
  }
  const boot = steps.findIndex((s) => actionOf(s) === 'boot' && s.boot!.includes(guest));
  return boot < 0 ? `no step boots ${guest}` : steps.slice(0, boot + 1);
}

export function registerShell(program: Command): void {
  const command = program
    .command('shell')
    .description("boot a scenario's guests, run its steps up to a point, and open a shell in a guest")
    .argument('<scenario>', 'scenario file')
    .option('--guest <name>', 'the guest to open the shell in (default: the first one booted)')
    .option('--until <step>', "run steps up to this one: its number (1-based) or part of its name (default: the guest's boot)");
  addSettingOptions(command, [...GUEST_SETTINGS])
    .addHelpText(
      'after',
      `
Examples:
  $ nvdimm-harness shell scenarios/hotplug.yaml                 # boot, then a shell in the first guest
  $ nvdimm-harness shell scenarios/hotplug.yaml --until 3       # after the first hotplug
  $ nvdimm-harness shell scenarios/share-on.yaml --guest reader --until "write pattern"

Leaving the shell (exit or Ctrl-D) stops the guests and removes the run's files.`,
    )
    .action(async (file: string, opts: ShellOptions) => {
      process.exitCode = await shell(file, opts);
    });
}

async function shell(file: string, opts: ShellOptions): Promise<number> {
  const [loaded] = loadAll([file]) ?? [];
  if (!loaded) return 2;
  const { scenario } = loaded;
  const firstBooted = scenario.steps.find((s) => s.boot)?.boot?.[0];
  const guest = opts.guest ?? firstBooted;
  if (!guest || !(guest in scenario.guests)) {
    console.error(`no guest ${opts.guest ?? ''} to open a shell in: the scenario has ${Object.keys(scenario.guests).join(', ')}`);
    return 2;
  }
  const steps = stepsBefore(scenario.steps, guest, opts.until);
  if (typeof steps === 'string') {
    console.error(`${relative(process.cwd(), file)}: ${steps}`);
    return 2;
  }
  exportSettings(chosenSettings(opts, GUEST_SETTINGS));
  const env = await prepareEnvironment(scenario.image, (line) => console.error(line));
  const run = await ScenarioRun.open(loaded, env, setting('artifacts'));
  let failed = false;
  try {
    console.error(`${scenario.name} — QEMU ${env.qemu.version}, ${env.image.name}, ${env.machine}, ${env.accel.accel}`);
    await runSteps(run, run.plan.steps.slice(0, steps.length), async ({ step, status, reason, error, ms }) => {
      const title = `${step.index + 1}. ${stepTitle(step.source)}`;
      if (status === 'skipped') console.error(`  ↓ ${title} [${reason}]`);
      else if (status === 'passed') console.error(`  ✓ ${title} (${ms} ms)`);
      else {
        failed = true;
        console.error(`  × ${title}\n${error!.message}${failureContext(run, step, await kernelLogs(run))}`);
      }
    });
    let target;
    try {
      target = run.guest(run.plan.machines[guest]!);
    } catch (e) {
      console.error((e as Error).message);
      return 1;
    }
    console.error(`shell in ${guest} (QEMU pid ${target.process.pid}; exit or Ctrl-D to stop the guests)`);
    await target.ssh!.interactive(process.stdin, process.stdout);
    return failed ? 1 : 0;
  } finally {
    await run.close(failed);
  }
}
