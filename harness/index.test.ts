/** The programmatic API loads and validates scenario files as the CLI does. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError, validateScenario } from './index.js';

const ROOT = join(import.meta.dirname, '..');
const MALFORMED = join(import.meta.dirname, 'scenario/fixtures/malformed');

describe('the API', () => {
  it('loads a scenario: its name, guests and steps', () => {
    const { scenario } = loadScenario(join(ROOT, 'scenarios/basic.yaml'));
    expect(scenario.name).toMatch(/^Basic usage/);
    expect(Object.keys(scenario.guests)).toEqual(['nolabel', 'label']);
    expect(scenario.steps).toHaveLength(5);
  });

  it('validates: a valid scenario has no issue, a malformed one each of its issues at file:line:column', () => {
    expect(validateScenario(join(ROOT, 'scenarios/basic.yaml'))).toEqual([]);
    const file = join(MALFORMED, 'unknown-key-top.yaml');
    const issues = validateScenario(file);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ file, line: expect.any(Number), column: expect.any(Number), message: expect.any(String) });
    expect(() => loadScenario(file)).toThrow(ScenarioError);
  });
});
