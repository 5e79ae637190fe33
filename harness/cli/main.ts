import { Command } from 'commander';
import { registerDoctor } from './doctor.js';
import { registerImage } from './image.js';
import { registerMatrix } from './matrix.js';
import { registerList } from './list.js';
import { registerQemu } from './qemu.js';
import { registerRun } from './run.js';
import { registerSchema } from './schema.js';
import { registerShell } from './shell.js';

const program = new Command()
  .name('nvdimm-harness')
  .description('Boots real QEMU guests to verify virtual NVDIMM behaviour, from declarative YAML scenarios.')
  .showHelpAfterError();

registerRun(program);
registerList(program);
registerImage(program);
registerQemu(program);
registerShell(program);
registerDoctor(program);
registerSchema(program);
registerMatrix(program);

await program.parseAsync();
