import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createVitest, type Vitest } from 'vitest/node';
import { DEFAULT_IMAGE } from '../images/build.js';
import { ENV } from '../run/config.js';
import { sweepStaleRunDirs } from '../run/janitor.js';
import { terminateDescendants } from '../run/descendants.js';
import { ProgressReporter } from '../run/progress-reporter.js';
import { JOBS_ENV } from '../run/jobs.js';
import { loadAll, ROOT, scenarioFiles } from './paths.js';

const REPORTERS = { pretty: () => new ProgressReporter(), junit: () => 'junit', json: () => 'json' } as const;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run scenario files (default: every scenarios/**/*.yaml) and report each step')
    .argument('[files...]', 'scenario files or folders')
    .option(
      '--qemu <path|version>',
      'QEMU binary, or a Debian build by version or suite: 5.2, 7.2, 10.0, 11.1, bullseye, ... (default: qemu-system-x86_64 on PATH, else 7.2)',
    )
    .option('--image <name>', `guest image, images/NAME.json (default: ${DEFAULT_IMAGE})`)
    .addOption(
      new Option('--accel <mode>', 'accelerator: kvm only if a probe guest boots under it').choices(['auto', 'kvm', 'tcg']).default('auto'),
    )
    .option('-t, --filter <pattern>', 'run only steps whose full name matches this regular expression')
    .addOption(new Option('--reporter <name>', 'report format').choices(Object.keys(REPORTERS)).default('pretty'))
    .option('--output-file <path>', 'write the junit or json report to this file')
    .option('--shard <i/n>', 'run only shard i of n (for CI matrices)', shard)
    .option('--jobs <n>', 'scenario files run at once (default: one per core, within memory at 2 GiB each)')
    .option('--keep', 'leave the guests running after the run, and print how to connect and stop them')
    .option('--keep-on-failure', 'leave the guests of a failed scenario running')
    .addHelpText(
      'after',
      `
Examples:
  $ nvdimm-harness run                              # every scenario
  $ nvdimm-harness run scenarios/basic.yaml         # one scenario
  $ nvdimm-harness run -t 'ndctl' --accel tcg       # only matching steps, under TCG
  $ nvdimm-harness run --reporter junit --output-file report.xml --shard 1/4
  $ nvdimm-harness run scenarios/hotplug.yaml --keep-on-failure

Exit status: 0 all passed, 1 a step failed, 2 a scenario file is malformed (nothing was started).`,
    )
    .action(async (args: string[], opts: RunOptions) => {
      process.exitCode = await run(args, opts);
    });
}

interface RunOptions {
  qemu?: string;
  image?: string;
  accel: string;
  filter?: string;
  reporter: keyof typeof REPORTERS;
  outputFile?: string;
  shard?: string;
  keep?: boolean;
  keepOnFailure?: boolean;
  jobs?: string;
}

function shard(value: string): string {
  if (!/^\d+\/\d+$/.test(value)) throw new InvalidArgumentError('expected i/n, e.g. 2/4');
  return value;
}

async function run(args: string[], opts: RunOptions): Promise<number> {
  const files = scenarioFiles(args);
  if (!loadAll(files)) return 2;
  if (files.length === 0) {
    console.error('no scenario files found');
    return 2;
  }
  if (opts.qemu) process.env[ENV.qemu] = opts.qemu.includes('/') ? resolve(opts.qemu) : opts.qemu;
  if (opts.image) process.env[ENV.image] = opts.image;
  process.env[ENV.accel] = opts.accel;
  if (opts.jobs) process.env[JOBS_ENV] = opts.jobs;
  process.env[ENV.keep] = opts.keep ? 'always' : opts.keepOnFailure ? 'failure' : 'never';
  const vitest = await createVitest('test', {
    root: ROOT,
    config: join(ROOT, 'vitest.config.ts'),
    include: files,
    watch: false,
    testNamePattern: opts.filter,
    // The readable progress stays on the terminal while a junit or json report goes to its file.
    reporters:
      opts.reporter === 'pretty' || !opts.outputFile ? [REPORTERS[opts.reporter]()] : [new ProgressReporter(), REPORTERS[opts.reporter]()],
    outputFile: opts.outputFile,
    shard: opts.shard,
  });
  stopOnSignals(vitest);
  // However the run ends (normally, by a signal, or vitest exiting from inside when a worker dies), the
  // run directories of workers that died outright go. First in line: vitest's own exit listener calls
  // process.exit() again, which ends the listeners there.
  process.prependOnceListener('exit', () => sweepStaleRunDirs());
  try {
    await vitest.start();
  } finally {
    await vitest.close();
  }
  return process.exitCode === undefined || process.exitCode === 0 ? 0 : 1;
}

/**
 * Ctrl-C or SIGTERM: vitest's workers are stopped (their QEMUs die with them) before the harness exits, and
 * the exit listener sweeps what they could not remove. The exit status is the conventional 128 + signal number.
 */
function stopOnSignals(vitest: Vitest): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    // vitest's own handlers exit at once, which would orphan its workers and their guests.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.error(`\n${signal}: stopping guests and cleaning up...`);
      void (async () => {
        // vitest stops its pool first; whatever outlives that is terminated.
        await Promise.race([vitest.close().catch(() => undefined), sleep(5000)]);
        await terminateDescendants();
        process.exit(code);
      })();
    });
  }
}
