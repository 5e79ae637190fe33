import { Command } from 'commander';
import { registerImage } from './image.js';
import { registerRun } from './run.js';
import { registerSchema } from './schema.js';

const program = new Command()
  .name('nvdimm-harness')
  .description('Boots real QEMU guests to verify virtual NVDIMM behaviour, from declarative YAML scenarios.')
  .showHelpAfterError();

registerRun(program);
registerImage(program);
registerSchema(program);

await program.parseAsync();
