// `import { nvdimmScenarios } from 'nvdimm-harness/vitest'` in a project's vitest.config.ts.
export { nvdimmScenarios } from './project.js';
