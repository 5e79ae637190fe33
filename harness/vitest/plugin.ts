import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

/** This module's extension, .ts in a clone and .js in the installed package (compiled by `npm pack`): its siblings have it too. */
export const MODULE_EXTENSION = extname(fileURLToPath(import.meta.url));

const bridge = fileURLToPath(new URL(`./scenario-suite${MODULE_EXTENSION}`, import.meta.url));

/** Makes each scenario YAML file a vitest test file: vitest then filters, shards and reports scenarios. */
export function scenarioPlugin(): Plugin {
  return {
    name: 'nvdimm-harness:scenarios',
    enforce: 'pre',
    transform(_code, id) {
      if (!/\.ya?ml$/.test(id)) return null;
      return {
        code: `import { scenarioTests } from ${JSON.stringify(bridge)};\nawait scenarioTests(${JSON.stringify(id)});\n`,
        map: null,
      };
    },
  };
}
