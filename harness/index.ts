/**
 * The programmatic API (`import { loadScenario, runScenarios } from 'nvdimm-harness'`): what the CLI's `run`
 * does, from a script.
 */
import { run } from './cli/run.js';
import { loadScenarioFile, ScenarioError, type ScenarioIssue } from './scenario/load.js';

export { loadScenarioFile as loadScenario, parseScenario, ScenarioError } from './scenario/load.js';
export type { LoadedScenario, ScenarioIssue } from './scenario/load.js';
export type { Scenario } from './scenario/schema.js';
/**
 * Runs scenario files or folders (default: ./scenarios) on real guests as `nvdimm-harness run` does, with its
 * progress on the terminal, and resolves to its exit status: 0 passed, 1 a step failed or no check ran, 2 a
 * file or an option is malformed (nothing started). It throws, before anything starts, when no file is named
 * and there is no ./scenarios, or an option's value cannot be used (`qemu: '9.9'`). It sets the
 * NVDIMM_HARNESS_* variables for vitest's workers, and replaces the process's SIGINT and SIGTERM handlers with
 * its own, which stop the guests and exit.
 */
export const runScenarios = run;
export type { RunOptions } from './cli/run.js';

/** Every problem of a scenario file, as file:line:column and what was expected; none when it is valid. */
export function validateScenario(file: string): ScenarioIssue[] {
  try {
    loadScenarioFile(file);
    return [];
  } catch (e) {
    if (e instanceof ScenarioError) return e.issues;
    throw e;
  }
}
