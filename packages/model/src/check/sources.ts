/**
 * The first semantic step: merge module files into modules, register every named
 * element, and report duplicate names.
 */
import { ModelErrorCode } from '../errors.js';
import { MODULE_SECTIONS, type ModuleSection, type RawAppFile, type RawModuleFile } from '../raw.js';
import type { ParsedFile } from '../source/parsed-file.js';
import { at, type Loc } from './diagnostics.js';
import type { Context, Elem, RawSections } from './context.js';

/** Sections whose element names share one namespace per module. */
const NAMESPACE: Record<ModuleSection, 'types' | 'documents'> = {
  entities: 'types',
  associations: 'types',
  enumerations: 'types',
  constants: 'documents',
  microflows: 'documents',
  customActions: 'documents',
  pages: 'documents',
  scheduledEvents: 'documents',
  restServices: 'documents',
  taskQueues: 'documents',
};

const WORD: Record<ModuleSection, string> = {
  enumerations: 'an enumeration',
  constants: 'a constant',
  entities: 'an entity',
  associations: 'an association',
  microflows: 'a microflow',
  customActions: 'a custom action',
  pages: 'a page',
  scheduledEvents: 'a scheduled event',
  restServices: 'a REST service',
  taskQueues: 'a task queue',
};

function where(loc: Loc): string {
  const p = loc.file.position(loc.path, 'key');
  return `${loc.file.path}:${p.line}:${p.column}`;
}

/** A file with its role decided. */
export type ClassifiedFile =
  | {
      readonly role: 'module';
      readonly file: ParsedFile;
      readonly data: RawModuleFile;
      readonly builtIn: boolean;
    }
  | { readonly role: 'app'; readonly file: ParsedFile; readonly data: RawAppFile };

/** Registers modules, module roles, elements and the app file. */
export function registerSources(ctx: Context, files: readonly ClassifiedFile[]): void {
  const seen = new Map<string, { section: ModuleSection; loc: Loc }>();
  for (const entry of files) {
    if (entry.role === 'app') {
      const loc: Loc = { file: entry.file, prefix: 'app', path: [] };
      if (ctx.app !== undefined) {
        ctx.diag.error(
          at(loc, 'app'),
          ModelErrorCode.InvalidApp,
          `A second app file: the app is already defined in ${ctx.app.loc.file.path}.`,
          'Keep one file with an app key.',
          'key',
        );
        continue;
      }
      ctx.app = { raw: entry.data, loc };
      continue;
    }
    const data = entry.data;
    const name = data.module;
    const loc: Loc = { file: entry.file, prefix: name, path: [] };
    if (name === 'System' && !entry.builtIn) {
      ctx.diag.error(
        at(loc, 'module'),
        ModelErrorCode.DuplicateName,
        'The System module is built in and cannot be defined or extended.',
        'Use another module name; specialise System.User, System.FileDocument or System.Image there.',
      );
      continue;
    }
    let module = ctx.modules.get(name);
    const sameButCase = [...ctx.modules.keys()].find(
      (m) => m !== name && m.toLowerCase() === name.toLowerCase(),
    );
    if (module === undefined && sameButCase !== undefined) {
      ctx.diag.error(
        at(loc, 'module'),
        ModelErrorCode.DuplicateName,
        `Module '${name}' differs from module '${sameButCase}' only in case.`,
        'Module names become table name prefixes, which ignore case; use one spelling.',
      );
      continue;
    }
    if (module === undefined) {
      module = {
        name,
        id: undefined,
        idLoc: undefined,
        documentation: '',
        builtIn: entry.builtIn,
        files: [],
        loc: at(loc, 'module'),
        roles: new Map(),
      };
      ctx.modules.set(name, module);
    }
    module.files.push(entry.file);
    if (data.documentation !== undefined) {
      module.documentation = [module.documentation, data.documentation].filter((d) => d !== '').join('\n');
    }
    if (data.id !== undefined) {
      if (module.id !== undefined && module.id !== data.id && module.idLoc !== undefined) {
        ctx.diag.error(
          at(loc, 'id'),
          ModelErrorCode.DuplicateId,
          `Module ${name} is given two ids: '${module.id}' (at ${where(module.idLoc)}) and '${data.id}'.`,
          'Give the id in one file only.',
        );
      } else {
        module.id = data.id;
        module.idLoc = at(loc, 'id');
      }
    }
    (data.moduleRoles ?? []).forEach((role, i) => {
      const roleLoc = at(loc, 'moduleRoles', i);
      const qname = `${name}.${role}`;
      const existing = module.roles.get(role);
      if (existing !== undefined) {
        ctx.diag.error(
          roleLoc,
          ModelErrorCode.DuplicateName,
          `Module role '${qname}' is declared twice (also at ${where(existing)}).`,
          'Remove one.',
        );
        return;
      }
      module.roles.set(role, roleLoc);
      ctx.moduleRoles.set(qname, roleLoc);
    });
    for (const section of MODULE_SECTIONS) {
      const elements: Readonly<Record<string, RawSections[typeof section]>> | undefined = data[section];
      if (elements === undefined) continue;
      for (const [elementName, raw] of Object.entries(elements)) {
        const elementLoc = at(loc, section, elementName);
        const qname = `${name}.${elementName}`;
        // Entity, association and enumeration names become table and column names, which ignore case.
        const key = `${NAMESPACE[section]}:${NAMESPACE[section] === 'types' ? qname.toLowerCase() : qname}`;
        const previous = seen.get(key);
        if (previous !== undefined) {
          const previousName = String(previous.loc.path[previous.loc.path.length - 1]);
          ctx.diag.error(
            elementLoc,
            ModelErrorCode.DuplicateName,
            previousName === elementName
              ? `'${qname}' is defined twice: it is also ${WORD[previous.section]} at ${where(previous.loc)}.`
              : `'${qname}' differs only in case from ${WORD[previous.section]} '${name}.${previousName}' at ${where(previous.loc)}.`,
            NAMESPACE[section] === 'types'
              ? 'Entities, associations and enumerations of a module share one set of names; rename one.'
              : 'Microflows, pages, constants and the other documents of a module share one set of names; rename one.',
            'key',
          );
          ctx.broken.add(qname);
          continue;
        }
        seen.set(key, { section, loc: elementLoc });
        const elem: Elem<RawSections[typeof section]> = {
          raw,
          loc: elementLoc,
          module: name,
          name: elementName,
          qname,
        };
        (ctx.elements[section] as Map<string, Elem<RawSections[typeof section]>>).set(qname, elem);
      }
    }
  }
  // User roles are needed early: `[%UserRole_X%]` tokens in XPath refer to them.
  const userRoles = ctx.app?.raw.security?.userRoles;
  if (ctx.app !== undefined && userRoles !== undefined) {
    for (const roleName of Object.keys(userRoles)) {
      ctx.userRoles.set(roleName, at(ctx.app.loc, 'security', 'userRoles', roleName));
    }
  }
}
