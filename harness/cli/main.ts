import { Command } from 'commander';
import { HarnessError } from '../errors.js';
import { registerDoctor } from './doctor.js';
import { registerImage } from './image.js';
import { registerInit } from './init.js';
import { registerMatrix } from './matrix.js';
import { registerMutate } from './mutate.js';
import { registerList } from './list.js';
import { registerQemu } from './qemu.js';
import { registerReport } from './report.js';
import { missingBisectBuild, registerRun, UNTESTABLE } from './run.js';
import { registerSchema } from './schema.js';
import { registerShell } from './shell.js';

// `nvdimm-harness list | head`: a reader that stops early is no error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command()
  .name('nvdimm-harness')
  .description('Boots real QEMU guests to verify virtual NVDIMM behaviour, from declarative YAML scenarios.')
  .showHelpAfterError('(add --help for usage)')
  // A malformed command line exits 2, like a malformed scenario, before anything starts; help exits 0.
  // Under `run --bisect`, a --qemu or --kernel path that does not exist is a revision whose build made no binary: 125,
  // which `git bisect run` skips.
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : missingBisectBuild(e.message) ? UNTESTABLE : 2));

registerRun(program);
registerList(program);
registerImage(program);
registerQemu(program);
registerShell(program);
registerDoctor(program);
registerSchema(program);
registerMatrix(program);
registerMutate(program);
registerReport(program);
registerInit(program);

try {
  await program.parseAsync();
} catch (e) {
  // A setting or input the harness cannot work with: its one-line message, not a stack trace.
  if (!(e instanceof HarnessError) || (e.code !== 'ENVIRONMENT' && e.code !== 'SCENARIO_INVALID')) throw e;
  console.error(`nvdimm-harness: ${e.message}`);
  process.exitCode = 2;
}
