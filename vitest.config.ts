import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { setting } from './harness/settings.js';
import { nvdimmScenarios, VITEST_LIMIT_MS } from './harness/vitest/project.js';

/** Tests that boot QEMU or run the CLI on real guests; every other *.test.ts is a pure unit test. */
const INTEGRATION = 'harness/**/*.integration.test.ts';

/**
 * vitest's order (longest first, from the last run's durations), and for files it has not timed yet (all of
 * them on a fresh clone, where it would go by file size) the long ones first, so that neither core idles
 * through a long file's tail: matrix-smoke, which with an empty cache also fetches and builds the other
 * QEMU builds and images (minutes), then the other integration tests (30-100 s each, the CLI end to end),
 * then the scenario files (2-14 s). (The unit tests run beside them, in a pool of their own.)
 */
class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      if (this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`)) return 4;
      if (f.moduleId.endsWith('/matrix-smoke.integration.test.ts')) return 0;
      return ['integration', 'scenarios'].indexOf(f.project.name) + 1;
    };
    // Array.prototype.sort is stable: vitest's order holds within a rank.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongFilesFirst },
    // Scenario files and integration tests each boot guests: one file per core, within memory.
    maxWorkers: setting('jobs'),
    minWorkers: 1,
    // The scenario files and integration tests each in a fresh process (vitest's default for its `forks` pool),
    // although nvdimmScenarios() asks for file-after-file workers: vitest makes one pool of each kind for every
    // project, isolated as the root says, and without isolation it runs the projects one after another, so the
    // other core would idle through the integration tests' tail. The unit tests are in a pool of their own
    // (`threads`), which runs beside the other and file after file: 47 s of CPU instead of 79 s.
    poolOptions: { threads: { isolate: false } },
    projects: [
      {
        // Pure: no QEMU, no network, no global setup; seconds on a machine with an empty cache.
        // Some run the CLI (no guest): starting it through tsx takes seconds on a loaded machine.
        test: { name: 'unit', include: ['harness/**/*.test.ts'], exclude: [INTEGRATION], testTimeout: 60_000, pool: 'threads' },
      },
      {
        // Each file in a process of its own, which its QEMUs do not outlive.
        test: { name: 'integration', include: [INTEGRATION], pool: 'forks', hookTimeout: VITEST_LIMIT_MS, testTimeout: VITEST_LIMIT_MS },
      },
      nvdimmScenarios(),
    ],
  },
});
