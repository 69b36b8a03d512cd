/** Loading the custom actions of an app folder and checking them against the model. */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatType, parseType, typesEqual, type MxType } from '@runplane/expressions';
import type { CompiledModel } from '@runplane/model';
import { engineError, MicroflowErrorCode } from '../errors.js';
import { isActionDefinition, type ActionDefinition, type ActionRegistry } from './define.js';

/** One thing wrong with an action file. */
export interface ActionProblem {
  /** The file, relative to the model folder. */
  readonly file: string;
  readonly message: string;
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
const SKIPPED = /(\.d\.ts|\.test\.[mc]?[jt]s|\.spec\.[mc]?[jt]s)$/;

async function actionFiles(folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...(await actionFiles(full)));
    else if (SOURCE.test(entry.name) && !SKIPPED.test(entry.name)) files.push(full);
  }
  return files.sort();
}

function sameType(declared: string, modelType: MxType): boolean {
  const parsed = parseType(declared);
  return parsed !== undefined && parsed.kind === modelType.kind && typesEqual(parsed, modelType);
}

/** The problems of one definition against the model's signature. */
function signatureProblems(definition: ActionDefinition, model: CompiledModel): string[] {
  const signature = model.customActions.get(definition.name);
  if (signature === undefined) {
    const known = [...model.customActions.keys()];
    return [
      `The model declares no custom action ${definition.name}${known.length > 0 ? ` (it declares ${known.join(', ')})` : ''}.`,
    ];
  }
  const problems: string[] = [];
  const declared = Object.entries(definition.parameters);
  const expected = signature.parameters;
  const names = declared.map(([name]) => name);
  if (names.join(',') !== expected.map((p) => p.name).join(',')) {
    problems.push(
      `Its parameters are (${names.join(', ')}), but the model declares (${expected.map((p) => p.name).join(', ')}), in that order.`,
    );
  }
  for (const parameter of expected) {
    const type = definition.parameters[parameter.name];
    if (type !== undefined && !sameType(type, parameter.type)) {
      problems.push(
        `Parameter ${parameter.name} is ${type}, but the model declares ${formatType(parameter.type)}.`,
      );
    }
  }
  if (!sameType(definition.returns, signature.returnType)) {
    problems.push(
      `It returns ${definition.returns}, but the model declares ${formatType(signature.returnType)}.`,
    );
  }
  return problems;
}

/**
 * Imports the action files under `<modelDir>/actions` (`.ts`, `.mts`, `.js`, `.mjs`, in
 * sub-folders too; tests and declaration files skipped), each exporting
 * `default defineAction({...})`, and checks each against the model's `customActions`
 * signature. Throws `ACTIONS_INVALID` listing every problem with its file. A folder without
 * `actions/` gives an empty registry. TypeScript files need a TypeScript loader (tsx).
 */
export async function loadActions(modelDir: string, model: CompiledModel): Promise<ActionRegistry> {
  const problems: ActionProblem[] = [];
  const registry = new Map<string, ActionDefinition>();
  const origin = new Map<string, string>();
  for (const path of await actionFiles(join(modelDir, 'actions'))) {
    const file = relative(modelDir, path).split(sep).join('/');
    let exported: unknown;
    try {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
      exported = module.default;
    } catch (error) {
      problems.push({
        file,
        message: `It cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
      });
      continue;
    }
    if (!isActionDefinition(exported)) {
      problems.push({
        file,
        message: 'Its default export is not an action: export default defineAction({...}).',
      });
      continue;
    }
    const earlier = origin.get(exported.name);
    if (earlier !== undefined) {
      problems.push({ file, message: `Action ${exported.name} is also defined in ${earlier}.` });
      continue;
    }
    const wrong = signatureProblems(exported, model);
    if (wrong.length > 0) {
      for (const message of wrong) problems.push({ file, message: `${exported.name}: ${message}` });
      continue;
    }
    origin.set(exported.name, file);
    registry.set(exported.name, exported);
  }
  if (problems.length > 0) {
    throw engineError(
      MicroflowErrorCode.ActionsInvalid,
      `The custom actions do not match the model:\n${problems.map((p) => `  ${p.file}: ${p.message}`).join('\n')}`,
      { details: { problems } },
    );
  }
  return registry;
}
