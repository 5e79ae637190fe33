import { rmSync } from 'node:fs';
import { extname } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunnerTask } from 'vitest';
import type { Vitest } from 'vitest/node';
import { sweepStaleRunDirs } from '../engine/janitor.js';
import { EnvironmentError } from '../errors.js';
import { findQemu } from '../qemu/binary.js';
import { ownKernelSetting } from '../engine/environment.js';
import { guestImage } from '../images/build.js';
import { defaultImage } from '../images/recipe.js';
import { terminateDescendantsSync } from '../engine/descendants.js';
import { addSettingOptions, chosenSettings, exportSettings, GUEST_SETTINGS, setting } from '../settings.js';
import { scenarioPlugin } from '../vitest/plugin.js';
import { scenarioTestOptions } from '../vitest/project.js';
import { loadAll, scenarioFiles } from './scenario-files.js';

/**
 * vitest (and the progress reporter built on it) is loaded only when scenarios run: every other command
 * starts in a fraction of the time.
 */
const progressReporter = async () => new (await import('../vitest/progress-reporter.js')).ProgressReporter();

const REPORTERS = {
  pretty: progressReporter,
  // The root suite is the project, not vitest's "vitest tests"; skip reasons are testcase properties.
  junit: () => ['junit', { suiteName: 'nvdimm-harness' }] as ['junit', { suiteName: string }],
  json: () => 'json' as const,
};
type ReporterName = keyof typeof REPORTERS;

/** How long vitest may take to stop its workers on Ctrl-C before they are terminated. */
const STOP_GRACE_MS = 5000;

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run scenario files (default: every scenarios/**/*.yaml) and report each step')
    .argument('[files...]', 'scenario files or folders');
  addSettingOptions(command, [...GUEST_SETTINGS, 'jobs', 'artifacts', 'verbose'])
    .option(
      '-t, --filter <pattern>',
      'run only the checks whose name matches this regular expression; the steps that set up state before them (boot, stop, reboot, restart, write, hotplug, run) still run',
    )
    .addOption(
      new Option('--reporter <name>', 'report format (default: pretty, or inferred from --output-file)').choices(Object.keys(REPORTERS)),
    )
    .option('--output-file <path>', 'write the junit (.xml) or json (.json) report to this file; progress stays on the terminal')
    .option('--shard <i/n>', 'run only shard i of n (for CI matrices)', shard)
    .option('--keep', 'leave the guests running after the run, and print how to connect and stop them')
    .option('--keep-on-failure', 'leave the guests of a failed scenario running')
    .option(
      '--bisect',
      'for `git bisect run`: exit 125 (skip this revision) when the QEMU or kernel under test cannot be tested at all — missing, crashed, or its guest never reached init',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ nvdimm-harness run                              # every scenario
  $ nvdimm-harness run scenarios/basic.yaml         # one scenario
  $ nvdimm-harness run -t 'ndctl' --accel tcg       # only matching checks (and the set-up steps they need), under TCG
  $ nvdimm-harness run --output-file report.xml --shard 1/4
  $ nvdimm-harness run scenarios/hotplug.yaml --keep-on-failure
  $ git bisect run npx nvdimm-harness run --bisect --qemu build/qemu-system-x86_64 scenarios/hotplug.yaml

Exit status: 0 all passed, 1 a step failed or no check ran at all, 2 a scenario file or an option is malformed (nothing was started),
125 with --bisect when every failure says the build under test cannot be tested (its QEMU missing or killed by a signal before
the guest was up, or the guest's kernel never reaching init); a QEMU that refuses a configuration in its own words is a failure (1).`,
    )
    .action(async (args: string[], opts: RunOptions) => {
      process.exitCode = await run(args, opts);
    });
}

export interface RunOptions {
  qemu?: string;
  kernel?: string;
  modules?: string;
  image?: string;
  arch?: string;
  machine?: string;
  accel?: string;
  verbose?: boolean;
  jobs?: string;
  artifacts?: string;
  filter?: string;
  reporter?: ReporterName;
  outputFile?: string;
  shard?: string;
  keep?: boolean;
  keepOnFailure?: boolean;
  bisect?: boolean;
}

/** `git bisect run`'s "cannot test this revision". */
export const UNTESTABLE = 125;

/** Whether a rejected command line is `run --bisect` naming a QEMU binary or kernel that does not exist. */
export function missingBisectBuild(message: string, argv = process.argv.slice(2)): boolean {
  return argv[0] === 'run' && argv.includes('--bisect') && /--(qemu|kernel) .* (QEMU binary|kernel) .* does not exist/.test(message);
}

function shard(value: string): string {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new InvalidArgumentError('expected i/n with 1 <= i <= n, e.g. 2/4');
  return value;
}

/** The machine-readable report format: as given, else from the output file's extension. */
function reporterFor(opts: RunOptions): ReporterName | string {
  if (opts.reporter) return opts.reporter;
  if (!opts.outputFile) return 'pretty';
  const byExtension: Record<string, ReporterName> = { '.xml': 'junit', '.json': 'json' };
  return byExtension[extname(opts.outputFile)] ?? `--output-file ${opts.outputFile}: name a .xml (junit) or .json file, or give --reporter`;
}

export async function run(args: string[], opts: RunOptions = {}): Promise<number> {
  const reporter = reporterFor(opts);
  if (!(reporter in REPORTERS)) {
    console.error(reporter);
    return 2;
  }
  if (opts.filter !== undefined) {
    try {
      new RegExp(opts.filter);
    } catch (e) {
      console.error(`-t ${opts.filter}: ${(e as Error).message}`);
      return 2;
    }
  }
  const files = scenarioFiles(args);
  if (files.length === 0) {
    console.error('no scenario files found');
    return 2;
  }
  if (!loadAll(files)) return 2;
  exportSettings({
    ...chosenSettings(opts, [...GUEST_SETTINGS, 'jobs', 'artifacts']),
    verbose: opts.verbose ? '1' : undefined,
    keep: opts.keep ? 'always' : opts.keepOnFailure ? 'failure' : undefined,
  });
  try {
    // A QEMU that is missing or does not run says nothing about the behaviour: under --bisect, skip the revision.
    if (opts.bisect) await findQemu(setting('qemu'), undefined, setting('arch'));
    // A kernel of your own is made into an image once, here: a kernel that cannot be (not a kernel, a
    // needed driver neither built in nor in --modules) is one line before anything boots.
    const kernel = ownKernelSetting();
    if (kernel) await guestImage(setting('image') ?? defaultImage(setting('arch')), { kernel, log: (line) => console.error(line) });
  } catch (e) {
    if (!(e instanceof EnvironmentError) || !opts.bisect) throw e;
    console.error(`nvdimm-harness: cannot test this revision: ${e.message}`);
    return UNTESTABLE;
  }
  const name = reporter as ReporterName;
  const { createVitest } = await import('vitest/node');
  const vitest = await createVitest(
    'test',
    {
      root: process.cwd(),
      config: false,
      include: files,
      watch: false,
      testNamePattern: opts.filter,
      maxWorkers: setting('jobs'),
      minWorkers: 1,
      ...scenarioTestOptions,
      // The readable progress stays on the terminal (stderr) while a junit or json report goes to stdout or its file.
      reporters:
        name === 'pretty'
          ? [await progressReporter()]
          : opts.outputFile
            ? [await progressReporter(), REPORTERS[name]()]
            : [REPORTERS[name]()],
      outputFile: opts.outputFile,
      shard: opts.shard,
    },
    { plugins: [scenarioPlugin()] },
  );
  stopOnSignals(vitest);
  // However the run ends (normally, by a signal, or vitest exiting from inside when a worker dies), the
  // run directories of workers that died outright go. First in line: vitest's own exit listener calls
  // process.exit() again, which ends the listeners there.
  process.prependOnceListener('exit', () => sweepStaleRunDirs());
  let steps: RunnerTask[];
  let errors: unknown[];
  try {
    await vitest.start();
    steps = stepsOf(vitest.state.getFiles());
    // The errors of the steps that failed, and those vitest caught outside any step.
    const failed = steps.filter((t) => t.result?.state === 'fail');
    errors = [...failed.flatMap((t) => t.result?.errors ?? []), ...vitest.state.getUnhandledErrors()];
  } finally {
    await vitest.close();
  }
  if (opts.bisect && errors.length > 0 && errors.every((e) => (e as { untestable?: boolean }).untestable === true)) {
    console.error('nvdimm-harness: cannot test this revision: every failure is the build under test not starting a guest (exit 125)');
    return UNTESTABLE;
  }
  // Steps that ran to a verdict (passed or failed), not skipped.
  if (!steps.some((t) => t.result?.state === 'pass' || t.result?.state === 'fail')) {
    console.error(
      `nvdimm-harness: no check ran${opts.filter !== undefined ? `: the filter /${opts.filter}/ matches no step` : ': every step was skipped'}; that is not a pass`,
    );
    return 1;
  }
  return process.exitCode === undefined || process.exitCode === 0 ? 0 : 1;
}

/** Every step (a vitest test) in these files and suites. */
function stepsOf(tasks: RunnerTask[]): RunnerTask[] {
  return tasks.flatMap((t) => (t.type === 'test' ? [t] : 'tasks' in t ? stepsOf(t.tasks) : []));
}

/**
 * Ctrl-C or SIGTERM: vitest's workers and their QEMUs are stopped before the harness exits, and the exit
 * listener sweeps the run folders they could not remove. The exit status is the conventional 128 + signal number.
 */
function stopOnSignals(vitest: Vitest): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    // vitest's own handlers exit at once, which would orphan its workers and their guests.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the guests and removing the run's files...`);
      // Not through vitest.close(): it refills its pool with a new worker once the running files are cancelled,
      // and a worker ending that it did not end itself is an error it throws in a loop (see descendants.ts).
      terminateDescendantsSync(STOP_GRACE_MS);
      // What close() would remove: the modules vitest compiled for its workers, in a folder per project.
      for (const project of vitest.projects) rmSync(project.tmpDir, { recursive: true, force: true });
      process.exit(code);
    });
  }
}
