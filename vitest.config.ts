import { defineConfig } from 'vitest/config';
import { setting } from './harness/settings.js';
import { nvdimmScenarios, VITEST_LIMIT_MS } from './harness/vitest/project.js';

/** Tests that boot QEMU or run the CLI on real guests; every other *.test.ts is a pure unit test. */
const INTEGRATION = 'harness/**/*.integration.test.ts';

export default defineConfig({
  test: {
    // Scenario files and integration tests each boot guests: one file per core, within memory.
    maxWorkers: setting('jobs'),
    minWorkers: 1,
    // Each file in a fresh process (vitest's default), although nvdimmScenarios() asks for file-after-file
    // workers: vitest makes one pool for every project, isolated as the root says, and without isolation it
    // runs the projects one after another, so the other core would idle through the integration tests' tail.
    projects: [
      {
        // Pure: no QEMU, no network, no global setup; seconds on a machine with an empty cache.
        // Some run the CLI (no guest): starting it through tsx takes seconds on a loaded machine.
        test: { name: 'unit', include: ['harness/**/*.test.ts'], exclude: [INTEGRATION], testTimeout: 60_000 },
      },
      {
        // Each file in a process of its own, which its QEMUs do not outlive.
        test: { name: 'integration', include: [INTEGRATION], pool: 'forks', hookTimeout: VITEST_LIMIT_MS, testTimeout: VITEST_LIMIT_MS },
      },
      nvdimmScenarios(),
    ],
  },
});
