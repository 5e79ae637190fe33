import { defineConfig } from 'vitest/config';
import { jobs } from './harness/run/jobs.js';
import { scenarioPlugin } from './harness/run/vitest-plugin.js';

export default defineConfig({
  plugins: [scenarioPlugin()],
  test: {
    include: ['harness/**/*.test.ts', 'scenarios/**/*.yaml'],
    globalSetup: ['harness/run/global-setup.ts'],
    // Each scenario file in a process of its own, which its QEMUs do not outlive.
    pool: 'forks',
    maxWorkers: jobs(),
    minWorkers: 1,
    hookTimeout: 600_000,
  },
});
