/**
 * Writes `schema/runplane-model.schema.json` from {@link buildModelSchema}. Run with
 * `npm run schema` in packages/model after changing the format.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { modelSchemaText } from './schema-text.js';

const target = fileURLToPath(new URL('../../schema/runplane-model.schema.json', import.meta.url));
await writeFile(target, modelSchemaText());
process.stdout.write(`wrote ${target}\n`);
