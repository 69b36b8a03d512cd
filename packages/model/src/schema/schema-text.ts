import { buildModelSchema } from './model-schema.js';

/** The schema file's text, as shipped (two-space JSON and a final newline). */
export function modelSchemaText(): string {
  return `${JSON.stringify(buildModelSchema(), null, 2)}\n`;
}
