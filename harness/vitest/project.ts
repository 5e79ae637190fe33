import { fileURLToPath } from 'node:url';
import { setting } from '../settings.js';
import { MODULE_EXTENSION, scenarioPlugin } from './plugin.js';

/**
 * vitest's own limit on a test or hook: far above the harness's deadlines (boot, SSH, each guest command),
 * which fail first and with a diagnosis; provisioning QEMU or building an image for the first time fits in it.
 */
export const VITEST_LIMIT_MS = 600_000;

/**
 * The first line of a failed step's evidence (where it ran, command lines, consoles, kernel logs) as logged
 * for JUnit's <system-out>; the terminal reporter drops it, since the failure message has it already.
 */
export const EVIDENCE_HEADER = 'nvdimm-harness: evidence of the failed step';

/** The annotation type under which a skipped step states why (progress lines leave it to the result line). */
export const SKIP_ANNOTATION = 'skipped';

/** vitest's options for running scenario files, shared by the `scenarios` project and `nvdimm-harness run`. */
export const scenarioTestOptions = {
  globalSetup: [fileURLToPath(new URL(`./global-setup${MODULE_EXTENSION}`, import.meta.url))],
  // Worker processes, which their QEMUs do not outlive (setpriv --pdeathsig), each running file after file
  // with vitest and the harness loaded once: `nvdimm-harness run` of the suite on one QEMU build took 100-122 s
  // (median 102) instead of 114-143 s (median 126) with a fresh process per file, and 191-197 s of CPU
  // instead of 218-236 s (four interleaved runs each, 2 cores, 2026-12-06). A file's guests are stopped
  // when it ends, whatever its outcome.
  pool: 'forks' as const,
  isolate: false,
  hookTimeout: VITEST_LIMIT_MS,
};

/**
 * A vitest project whose test files are scenario YAML files: `defineConfig(nvdimmScenarios())` in a project's
 * vitest.config.ts, or one of its `projects`.
 */
export function nvdimmScenarios(include = ['scenarios/**/*.yaml']) {
  return {
    plugins: [scenarioPlugin()],
    // One file per core within memory when this is the whole configuration; among projects, the root's maxWorkers rules.
    test: { name: 'scenarios', include, ...scenarioTestOptions, maxWorkers: setting('jobs'), minWorkers: 1 },
  };
}
