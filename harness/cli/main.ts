import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { createVitest, type Vitest } from 'vitest/node';
import { loadScenarioFile, ScenarioError } from '../scenario/load.js';
import { JSON_SCHEMA_PATH, scenarioJsonSchema } from '../scenario/json-schema.js';
import { guestImage, DEFAULT_IMAGE } from '../images/build.js';
import { ENV } from '../run/config.js';
import { sweepStaleRunDirs, sweepStaleRunDirsSync } from '../run/janitor.js';
import { terminateDescendants } from '../run/descendants.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPORTERS = { pretty: 'default', junit: 'junit', json: 'json' } as const;

const program = new Command()
  .name('nvdimm-harness')
  .description('Boots real QEMU guests to verify virtual NVDIMM behaviour, from declarative YAML scenarios.')
  .showHelpAfterError();

program
  .command('run')
  .description('run scenario files (default: every scenarios/**/*.yaml) and report each step')
  .argument('[files...]', 'scenario files or folders')
  .option('--qemu <path|version>', 'QEMU binary, or a Debian build by version or suite: 5.2, 7.2, 10.0, 11.1, bullseye, ... (default: qemu-system-x86_64 on PATH, else 7.2)')
  .option('--image <name>', `guest image, images/NAME.json (default: ${DEFAULT_IMAGE})`)
  .addOption(new Option('--accel <mode>', 'accelerator: kvm only if a probe guest boots under it').choices(['auto', 'kvm', 'tcg']).default('auto'))
  .option('-t, --filter <pattern>', 'run only steps whose full name matches this regular expression')
  .addOption(new Option('--reporter <name>', 'report format').choices(Object.keys(REPORTERS)).default('pretty'))
  .option('--output-file <path>', 'write the junit or json report to this file')
  .option('--shard <i/n>', 'run only shard i of n (for CI matrices)', shard)
  .addHelpText('after', `
Examples:
  $ nvdimm-harness run                              # every scenario
  $ nvdimm-harness run scenarios/basic.yaml         # one scenario
  $ nvdimm-harness run -t 'ndctl' --accel tcg       # only matching steps, under TCG
  $ nvdimm-harness run --reporter junit --output-file report.xml --shard 1/4

Exit status: 0 all passed, 1 a step failed, 2 a scenario file is malformed (nothing was started).`)
  .action(async (args: string[], opts: RunOptions) => {
    process.exitCode = await run(args, opts);
  });

const image = program.command('image').description('guest images');
image
  .command('build')
  .description('build a guest image (or find it in the cache) and print where it is')
  .argument('[name]', 'image name, images/NAME.json', DEFAULT_IMAGE)
  .action(async (name: string) => {
    const started = Date.now();
    const built = await guestImage(name, { log: (line) => console.error(line) });
    console.log(`${built.name}: kernel ${built.kernelVersion}, ${built.cached ? 'cached' : 'built'} in ${Date.now() - started} ms`);
    console.log(`  kernel    ${built.vmlinux}\n  initramfs ${built.initramfs}`);
  });

program
  .command('schema')
  .description('print the JSON Schema of scenario files (generated from the zod schema), or write it for editors')
  .option('--write', `write it to ${JSON_SCHEMA_PATH}`)
  .action((opts: { write?: boolean }) => {
    if (opts.write) writeFileSync(join(ROOT, JSON_SCHEMA_PATH), scenarioJsonSchema());
    else process.stdout.write(scenarioJsonSchema());
  });

interface RunOptions {
  qemu?: string;
  image?: string;
  accel: string;
  filter?: string;
  reporter: keyof typeof REPORTERS;
  outputFile?: string;
  shard?: string;
}

function shard(value: string): string {
  if (!/^\d+\/\d+$/.test(value)) throw new InvalidArgumentError('expected i/n, e.g. 2/4');
  return value;
}

async function run(args: string[], opts: RunOptions): Promise<number> {
  const files = scenarioFiles(args.length ? args : [join(ROOT, 'scenarios')]);
  // Every file is checked before anything starts: a typo should cost a second, not a boot.
  const errors = files.flatMap((f) => {
    try {
      loadScenarioFile(relative(process.cwd(), f));
      return [];
    } catch (e) {
      if (e instanceof ScenarioError) return [e.message];
      throw e;
    }
  });
  if (errors.length) {
    console.error(errors.join('\n'));
    console.error(`\n${errors.length} malformed scenario file(s); nothing was run.`);
    return 2;
  }
  if (files.length === 0) {
    console.error('no scenario files found');
    return 2;
  }
  if (opts.qemu) process.env[ENV.qemu] = opts.qemu.includes('/') ? resolve(opts.qemu) : opts.qemu;
  if (opts.image) process.env[ENV.image] = opts.image;
  process.env[ENV.accel] = opts.accel;
  const vitest = await createVitest('test', {
    root: ROOT,
    config: join(ROOT, 'vitest.config.ts'),
    include: files,
    watch: false,
    testNamePattern: opts.filter,
    reporters: [REPORTERS[opts.reporter]],
    outputFile: opts.outputFile,
    shard: opts.shard,
  });
  stopOnSignals(vitest);
  // However vitest ends (it may exit from inside when a worker dies), the dead workers' run dirs go.
  // First in line: vitest's own exit listener calls process.exit() again, which ends the listeners there.
  process.prependOnceListener('exit', () => sweepStaleRunDirsSync());
  try {
    await vitest.start();
  } finally {
    await vitest.close();
    // A worker that died outright (SIGKILL, out of memory) could not remove its run directory.
    await sweepStaleRunDirs();
  }
  return process.exitCode === undefined || process.exitCode === 0 ? 0 : 1;
}

/**
 * Ctrl-C or SIGTERM: vitest's workers are stopped (their QEMUs die with them) and the run directories they
 * could not remove are swept. The exit status is the conventional 128 + signal number.
 */
function stopOnSignals(vitest: Vitest): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    // vitest's own handlers exit at once, which would orphan its workers and their guests.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.error(`\n${signal}: stopping guests and cleaning up...`);
      void (async () => {
        // vitest stops its pool first; whatever outlives that is terminated.
        await Promise.race([vitest.close().catch(() => undefined), sleep(5000)]);
        await terminateDescendants();
        await sweepStaleRunDirs();
        process.exit(code);
      })();
    });
  }
}
function scenarioFiles(args: string[]): string[] {
  return args.flatMap((arg) => {
    const path = resolve(arg);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // reported by the loader, with its name
    }
    if (!isDir) return [path];
    return readdirSync(path, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(path, f));
  });
}

await program.parseAsync();
