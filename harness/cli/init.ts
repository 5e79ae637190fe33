import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { EnvironmentError } from '../errors.js';
import { PACKAGE_ROOT } from '../root.js';

/** What `init` writes (relative to the current directory), from the package's templates/. */
export const INIT_FILES: Record<string, string> = {
  'scenarios/example.yaml': 'example.yaml',
  // .mts: ESM whatever the project's package type, so the plugin (ESM) loads on any Node 20.
  'vitest.config.mts': 'vitest.config.mts',
  '.github/workflows/nvdimm.yml': 'nvdimm.yml',
};

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(`write a starter scenario, a vitest configuration and a CI workflow here: ${Object.keys(INIT_FILES).join(', ')}`)
    .addHelpText(
      'after',
      '\nExample:\n  $ npm install --save-dev nvdimm-harness && npx nvdimm-harness init && npx nvdimm-harness run\n\nExit status: 0 written, 2 one of the files exists already (nothing was written).',
    )
    .action(() => {
      const existing = Object.keys(INIT_FILES).filter((f) => existsSync(f));
      if (existing.length) throw new EnvironmentError(`init: ${existing.join(', ')} already here; nothing was written`);
      for (const [target, template] of Object.entries(INIT_FILES)) {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(join(PACKAGE_ROOT, 'templates', template), target);
        console.log(`wrote ${target}`);
      }
      console.log('\nRun the scenario: npx nvdimm-harness run   (or: npx vitest run)');
    });
}
