import { defineConfig } from 'vitest/config';
import { nvdimmScenarios } from 'nvdimm-harness/vitest';

// Every scenarios/**/*.yaml is a test file: `npx vitest run`, or `npx vitest run scenarios/example.yaml -t ndctl`.
export default defineConfig(nvdimmScenarios());
