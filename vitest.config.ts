import { availableParallelism, totalmem } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defaultJobs, SETTINGS, setting } from './harness/settings.js';
import { nvdimmScenarios, VITEST_LIMIT_MS } from './harness/vitest/project.js';

/** Tests that boot QEMU or run the CLI on real guests; every other *.test.ts is a pure unit test. */
const INTEGRATION = 'harness/**/*.integration.test.ts';

/**
 * vitest's order (longest first, from the last run's durations), and for files it has not timed yet (all of
 * them on a fresh clone, where it would go by file size) the long ones first, so that neither core idles
 * through a long file's tail: matrix-smoke, which with an empty cache also fetches and builds the other
 * QEMU builds and images (minutes), then the other integration tests (30-100 s each, the CLI end to end),
 * then the scenario files (2-14 s), then the unit tests. (The scenario files run in a pool of their own, beside
 * the others: vitest orders each pool's files on its own.)
 */
class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      if (this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`)) return 4;
      if (f.moduleId.endsWith('/matrix-smoke.integration.test.ts')) return 0;
      return ['integration', 'scenarios', 'unit'].indexOf(f.project.name) + 1;
    };
    // Array.prototype.sort is stable: vitest's order holds within a rank.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongFilesFirst },
    // Scenario files and integration tests each boot guests, and their two pools (below) run at once: each pool
    // one file per core within half the memory, unless NVDIMM_HARNESS_JOBS says how many files each may run.
    maxWorkers: process.env[SETTINGS.jobs.env] ? setting('jobs') : defaultJobs(availableParallelism(), totalmem() / 2),
    minWorkers: 1,
    // Two pools, each file after file in its workers, running beside each other. vitest makes one pool of each
    // kind for every project, isolated as the root says, and without isolation it runs the projects of a pool one
    // after another. Scenario files: worker processes (`forks`), which their QEMUs do not outlive, as
    // `nvdimm-harness run` has them (nvdimmScenarios()). Unit and integration tests: threads, whose QEMUs
    // (guest.integration.test.ts; the others' are under the CLI they run) die with the thread that started them.
    // The unit project took 47 s of CPU instead of 79 s with a process per file.
    poolOptions: { threads: { isolate: false }, forks: { isolate: false } },
    projects: [
      {
        // Pure: no QEMU, no network, no global setup; seconds on a machine with an empty cache.
        // Some run the CLI (no guest): starting it through tsx takes seconds on a loaded machine.
        test: { name: 'unit', include: ['harness/**/*.test.ts'], exclude: [INTEGRATION], testTimeout: 60_000, pool: 'threads' },
      },
      {
        test: { name: 'integration', include: [INTEGRATION], pool: 'threads', hookTimeout: VITEST_LIMIT_MS, testTimeout: VITEST_LIMIT_MS },
      },
      nvdimmScenarios(),
    ],
  },
});
