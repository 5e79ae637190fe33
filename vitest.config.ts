import { defineConfig } from 'vitest/config';
import { scenarioPlugin } from './harness/run/vitest-plugin.js';

export default defineConfig({
  plugins: [scenarioPlugin()],
  test: {
    include: ['harness/**/*.test.ts', 'scenarios/**/*.yaml'],
    globalSetup: ['harness/run/global-setup.ts'],
    // Each scenario file in its own process: a killed worker takes its QEMUs with it (execa cleanup).
    pool: 'forks',
    hookTimeout: 600_000,
  },
});
