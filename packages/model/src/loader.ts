/**
 * Loading a model: parse every file, check it against the JSON Schema, resolve every
 * reference, type-check every expression and XPath constraint, and build the frozen
 * compiled model — or report every error found.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ModelErrorCode, ModelLoadError, type ModelError } from './errors.js';
import { MODULE_SECTIONS, type RawAppFile, type RawModuleFile } from './raw.js';
import { ParsedFile, type ModelSourceFile } from './source/parsed-file.js';
import { validateFile } from './schema/validate.js';
import { SYSTEM_MODULE_FILE, SYSTEM_MODULE_YAML } from './system-module.js';
import { Diagnostics, type Loc } from './check/diagnostics.js';
import { Context } from './check/context.js';
import { registerSources, type ClassifiedFile } from './check/sources.js';
import { checkIds, compileEntities, compileEntityRules, compileEnumerations } from './check/domain.js';
import { ModelDomainSchema } from './check/domain-schema.js';
import {
  compileConstants,
  compileRestServices,
  compileScheduledEvents,
  compileTaskQueues,
  constantTypes,
} from './check/documents.js';
import { compileSignatures } from './check/signatures.js';
import { compileMicroflows } from './check/microflows.js';
import { compilePages } from './check/pages.js';
import { compileApp } from './check/app.js';
import { deepFreeze } from './compiled/freeze.js';
import { modelVersion } from './compiled/version.js';
import type { CompiledModel, Module, ModuleRole } from './compiled/types.js';

/** The outcome of a load: the compiled model, or every error found. */
export type LoadResult =
  | { readonly ok: true; readonly model: CompiledModel }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

const MODEL_EXTENSIONS = ['.yaml', '.yml', '.json'];

function ioError(file: string, message: string, hint: string): ModelError {
  return { code: ModelErrorCode.Io, file, line: 1, column: 1, path: '', message, hint };
}

/**
 * Reads the model files under `dir`: every `.yaml`, `.yml` and `.json` file, in
 * sub-folders too (skipping hidden folders and node_modules). Paths are relative to
 * `dir`, with `/` separators, sorted.
 */
export async function readModelFiles(
  dir: string,
): Promise<{ files: ModelSourceFile[]; errors: ModelError[] }> {
  const files: ModelSourceFile[] = [];
  const errors: ModelError[] = [];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      return {
        files,
        errors: [ioError(dir, `${dir} is not a directory.`, 'Give the folder that holds the model files.')],
      };
    }
  } catch (error) {
    return {
      files,
      errors: [
        ioError(
          dir,
          `Cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
          'Check the path.',
        ),
      ],
    };
  }
  const walk = async (folder: string): Promise<void> => {
    const items = await readdir(folder, { withFileTypes: true });
    for (const item of items) {
      if (item.name.startsWith('.') || item.name === 'node_modules') continue;
      const full = join(folder, item.name);
      if (item.isDirectory()) {
        await walk(full);
      } else if (item.isFile() && MODEL_EXTENSIONS.some((ext) => item.name.endsWith(ext))) {
        const path = relative(dir, full).split(sep).join('/');
        try {
          files.push({ path, text: await readFile(full, 'utf8') });
        } catch (error) {
          errors.push(
            ioError(
              path,
              `Cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
              '',
            ),
          );
        }
      }
    }
  };
  await walk(dir);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (files.length === 0 && errors.length === 0) {
    errors.push(
      ioError(
        dir,
        `No model files (.yaml, .yml, .json) in ${dir}.`,
        'Add an app file and one file per module.',
      ),
    );
  }
  return { files, errors };
}

/** Loads the model in a directory. */
export async function loadModel(dir: string): Promise<LoadResult> {
  const { files, errors } = await readModelFiles(dir);
  if (errors.length > 0) return { ok: false, errors };
  return loadModelFromFiles(files);
}

/** Loads the model in a directory, throwing a {@link ModelLoadError} with every error when it is invalid. */
export async function loadModelOrThrow(dir: string): Promise<CompiledModel> {
  const result = await loadModel(dir);
  if (!result.ok) throw new ModelLoadError(result.errors, dir);
  return result.model;
}

/** The app file's content for the version hash: without its `$schema` pointer. */
function appContent(raw: RawAppFile | undefined): unknown {
  if (raw === undefined) return null;
  const { $schema: _schema, ...content } = raw;
  return content;
}

function compareErrors(a: ModelError, b: ModelError): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

let parsedSystemFile: ParsedFile | undefined;

/** The System module's file, parsed once per process (it never changes). */
function systemFile(): ParsedFile {
  parsedSystemFile ??= new ParsedFile({ path: SYSTEM_MODULE_FILE, text: SYSTEM_MODULE_YAML });
  return parsedSystemFile;
}

/** Loads a model from files given in memory (paths as they should appear in errors). */
export function loadModelFromFiles(files: readonly ModelSourceFile[]): LoadResult {
  const diag = new Diagnostics();
  const classified: ClassifiedFile[] = [];
  const sources = [
    { file: { path: SYSTEM_MODULE_FILE, text: SYSTEM_MODULE_YAML }, builtIn: true },
    ...files.map((file) => ({ file, builtIn: false })),
  ];
  for (const { file, builtIn } of sources) {
    const parsed = builtIn ? systemFile() : new ParsedFile(file);
    if (parsed.problems.length > 0) {
      for (const problem of parsed.problems) {
        const position = parsed.lineColumn(problem.offset);
        const duplicate = problem.code === 'DUPLICATE_KEY';
        diag.errors.push({
          code: duplicate ? ModelErrorCode.DuplicateName : ModelErrorCode.Syntax,
          file: parsed.path,
          line: position.line,
          column: position.column,
          path: '',
          message: duplicate ? 'This key appears twice in the same mapping.' : problem.message,
          hint: duplicate ? 'Names are unique; rename or merge one of them.' : '',
        });
      }
      continue;
    }
    const data = parsed.data;
    if (data === null || data === undefined) continue;
    const isObject = typeof data === 'object' && !Array.isArray(data);
    const record = isObject ? (data as Record<string, unknown>) : {};
    const role = isObject && 'app' in record ? 'app' : 'module';
    const moduleName = typeof record.module === 'string' ? record.module : undefined;
    const prefix = role === 'app' ? 'app' : (moduleName ?? file.path.replace(/\.(ya?ml|json)$/, ''));
    if (!isObject) {
      const loc: Loc = { file: parsed, prefix, path: [] };
      diag.error(
        loc,
        ModelErrorCode.Schema,
        'A model file is a mapping with a module key (or, for the app file, an app key).',
        'Start the file with module: <Name>.',
      );
      continue;
    }
    const schemaErrors = validateFile(parsed, role, prefix);
    diag.errors.push(...schemaErrors);
    if (schemaErrors.length > 0) continue;
    classified.push(
      role === 'app'
        ? { role: 'app', file: parsed, data: data as RawAppFile }
        : { role: 'module', file: parsed, data: data as RawModuleFile, builtIn },
    );
  }
  // Reference and type checks on a file that failed the schema would only report echoes.
  if (diag.count > 0) return { ok: false, errors: [...diag.errors].sort(compareErrors) };

  const ctx = new Context(diag);
  registerSources(ctx, classified);
  compileEnumerations(ctx);
  compileEntities(ctx);
  checkIds(ctx);
  ctx.schema = new ModelDomainSchema({
    entities: ctx.entities,
    associations: ctx.associations,
    enumerations: ctx.enumerations,
    constants: constantTypes(ctx),
    userRoles: new Set(ctx.userRoles.keys()),
  });
  compileConstants(ctx);
  compileSignatures(ctx);
  compileTaskQueues(ctx);
  compileEntityRules(ctx);
  compileMicroflows(ctx);
  compilePages(ctx);
  compileScheduledEvents(ctx);
  compileRestServices(ctx);
  const app = compileApp(ctx);
  if (diag.count > 0) return { ok: false, errors: [...diag.errors].sort(compareErrors) };

  const modules = new Map<string, Module>();
  const moduleRoles = new Map<string, ModuleRole>();
  for (const module of ctx.modules.values()) {
    const roles = [...module.roles.keys()].map((role) => `${module.name}.${role}`);
    modules.set(module.name, {
      name: module.name,
      id: module.id ?? module.name,
      documentation: module.documentation,
      builtIn: module.builtIn,
      moduleRoles: roles,
      files: module.files.map((f) => f.path),
    });
    for (const role of module.roles.keys()) {
      moduleRoles.set(`${module.name}.${role}`, {
        name: `${module.name}.${role}`,
        module: module.name,
        shortName: role,
      });
    }
  }
  const version = modelVersion(
    new Map(
      [...ctx.modules.values()].map((module) => [
        module.name,
        {
          meta: {
            id: module.id ?? null,
            documentation: module.documentation,
            roles: [...module.roles.keys()].sort(),
          },
          sections: new Map(
            MODULE_SECTIONS.map((section) => [
              section,
              new Map(
                [...ctx.elements[section].values()]
                  .filter((e) => e.module === module.name)
                  .map((e) => [e.name, e.raw as unknown]),
              ),
            ]),
          ),
        },
      ]),
    ),
    appContent(ctx.app?.raw),
  );
  const frozen = deepFreeze({
    modules,
    moduleRoles,
    entities: ctx.entities,
    associations: ctx.associations,
    enumerations: ctx.enumerations,
    constants: ctx.constants,
    microflows: ctx.microflows,
    customActions: ctx.customActions,
    pages: ctx.pages,
    scheduledEvents: ctx.scheduledEvents,
    restServices: ctx.restServices,
    taskQueues: ctx.taskQueues,
    security: app.security,
    settings: app.settings,
    navigation: app.navigation,
  });
  const schema = new ModelDomainSchema({
    entities: frozen.entities,
    associations: frozen.associations,
    enumerations: frozen.enumerations,
    constants: new Map([...frozen.constants.values()].map((c) => [c.name, c.type])),
    userRoles: new Set(frozen.security.userRoles.keys()),
  });
  const model: CompiledModel = Object.freeze({
    version,
    app: Object.freeze({ ...app.app }),
    ...frozen,
    schema,
  });
  return { ok: true, model };
}
