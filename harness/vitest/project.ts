import { fileURLToPath } from 'node:url';
import { scenarioPlugin } from './plugin.js';

/**
 * vitest's own limit on a test or hook: far above the harness's deadlines (boot, SSH, each guest command),
 * which fail first and with a diagnosis; provisioning QEMU or building an image for the first time fits in it.
 */
export const VITEST_LIMIT_MS = 600_000;

/** The annotation type under which a skipped step states why (progress lines leave it to the result line). */
/**
 * The first line of a failed step's evidence (where it ran, command lines, consoles, kernel logs) as logged
 * for JUnit's <system-out>; the terminal reporter drops it, since the failure message has it already.
 */
export const EVIDENCE_HEADER = 'nvdimm-harness: evidence of the failed step';

export const SKIP_ANNOTATION = 'skipped';

/** vitest's options for running scenario files, shared by the `scenarios` project and `nvdimm-harness run`. */
export const scenarioTestOptions = {
  globalSetup: [fileURLToPath(new URL('./global-setup.ts', import.meta.url))],
  // Each file in a process of its own, which its QEMUs do not outlive.
  pool: 'forks' as const,
  hookTimeout: VITEST_LIMIT_MS,
};

/** A vitest project whose test files are scenario YAML files. */
export function scenarioProject(include = ['scenarios/**/*.yaml']) {
  return { plugins: [scenarioPlugin()], test: { name: 'scenarios', include, ...scenarioTestOptions } };
}
