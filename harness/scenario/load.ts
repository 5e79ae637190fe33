import { readFileSync } from 'node:fs';
import { parseYaml, YamlSchemaError, type YamlIssue } from './yaml.js';
import { scenarioSchema, type Scenario } from './schema.js';

export type ScenarioIssue = YamlIssue;

/** A scenario file that cannot be run, with every problem found in it; the message lists them as file:line:column. */
export class ScenarioError extends YamlSchemaError {
  constructor(issues: ScenarioIssue[]) {
    super(issues);
    this.name = 'ScenarioError';
  }
}

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([{ file, line: 1, column: 1, message: `cannot read the scenario: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): LoadedScenario {
  try {
    return { file, scenario: parseYaml(text, file, scenarioSchema) };
  } catch (e) {
    if (e instanceof YamlSchemaError) throw new ScenarioError(e.issues);
    throw e;
  }
}
