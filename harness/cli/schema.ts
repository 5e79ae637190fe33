import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { JSON_SCHEMA_PATH, scenarioJsonSchema } from '../scenario/json-schema.js';
import { PACKAGE_ROOT } from '../root.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of scenario files (generated from the zod schema), or write it for editors')
    .option('--write', `write it to ${JSON_SCHEMA_PATH}`)
    .addHelpText(
      'after',
      '\nExamples:\n  $ nvdimm-harness schema > scenario.schema.json\n  $ nvdimm-harness schema --write   # what `npm run schema` does',
    )
    .action((opts: { write?: boolean }) => {
      if (opts.write) writeFileSync(join(PACKAGE_ROOT, JSON_SCHEMA_PATH), scenarioJsonSchema());
      else process.stdout.write(scenarioJsonSchema());
    });
}
