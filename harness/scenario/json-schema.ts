import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/** Where the generated schema is committed; scenario files point their editors at it. */
export const JSON_SCHEMA_PATH = 'schema/scenario.schema.json';

/**
 * The JSON Schema of scenario files, generated from the zod schema so that the two never disagree. It
 * describes the input (sizes as strings or numbers, defaults optional); cross-references are checked by
 * the harness only.
 */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'nvdimm-harness scenario' }, null, 2)}\n`;
}
