import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_PATH, scenarioJsonSchema } from './json-schema.js';

describe('the committed JSON Schema', () => {
  it('is the one generated from the zod schema (run `npm run schema` after changing it)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(scenarioJsonSchema());
  });

  it('lists every step and rejects unknown keys', () => {
    const schema = JSON.parse(scenarioJsonSchema());
    const step = schema.properties.steps.items;
    expect(Object.keys(step.properties)).toEqual(
      expect.arrayContaining(['boot', 'expect-ndctl', 'hotplug', 'expect-start-failure', 'when', 'name']),
    );
    expect(step.additionalProperties).toBe(false);
    expect(schema.additionalProperties).toBe(false);
  });

  it('is referenced from every scenario file', async () => {
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml'))) {
      expect(readFileSync(`scenarios/${f}`, 'utf8').split('\n')[0], f).toBe(
        '# yaml-language-server: $schema=../schema/scenario.schema.json',
      );
    }
  });
});
