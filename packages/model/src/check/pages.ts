/**
 * Pages: data sources, the object each widget works on (its context), attributes,
 * associations, buttons and their microflows and pages, and every expression.
 */
import { ModelErrorCode } from '../errors.js';
import { formatType, type MxType } from '../languages.js';
import type {
  ButtonAction,
  ContextReference,
  DataViewSource,
  ListSource,
  MemberPath,
  Page,
  Parameter,
  SortItem,
  Widget,
} from '../compiled/types.js';
import type { RawButtonAction, RawPage, RawWidget } from '../raw.js';
import { at, elementSource, modelPath, type Loc } from './diagnostics.js';
import { entries, type Context, type Elem } from './context.js';
import { compileExpr, compileTemplate, compileXPathAt, type Env } from './expressions.js';
import { ownsAssociation } from './domain.js';
import { GLOBAL_VARIABLES } from './microflows.js';
import { didYouMean } from './spelling.js';

/** An object available to widgets: a page parameter, or the object of an enclosing container. */
interface ContextObject {
  readonly reference: ContextReference;
  readonly entity: string;
  /** dataView, or listItem for list views and data grids. */
  readonly kind: 'parameter' | 'dataView' | 'listItem';
  readonly editable: boolean;
}

const BOOLEAN: MxType = { kind: 'Boolean' };

/** Compiles every page. */
export function compilePages(ctx: Context): void {
  for (const elem of ctx.elements.pages.values()) {
    const page = new PageCompiler(ctx, elem).compile();
    if (page !== undefined) ctx.pages.set(elem.qname, page);
  }
}

class PageCompiler {
  readonly #ctx: Context;
  readonly #elem: Elem<RawPage>;
  readonly #parameters: readonly Parameter[];
  readonly #names = new Map<string, { raw: RawWidget; loc: Loc }>();
  readonly #errorsBefore: number;

  constructor(ctx: Context, elem: Elem<RawPage>) {
    this.#ctx = ctx;
    this.#elem = elem;
    this.#parameters = ctx.pageParameters.get(elem.qname) ?? [];
    this.#errorsBefore = ctx.diag.count;
  }

  compile(): Page | undefined {
    const raw = this.#elem.raw;
    this.#collectNames(raw.widgets, at(this.#elem.loc, 'widgets'));
    const contexts: ContextObject[] = this.#parameters.map((p) => ({
      reference: { kind: 'parameter', name: p.name },
      entity: p.type.kind === 'Object' ? p.type.entity : '',
      kind: 'parameter',
      editable: true,
    }));
    const widgets = this.#widgets(raw.widgets, at(this.#elem.loc, 'widgets'), contexts);
    const allowedRoles = this.#ctx.resolveModuleRoles(
      raw.allowedRoles,
      this.#elem.module,
      at(this.#elem.loc, 'allowedRoles'),
    );
    if (this.#ctx.diag.count !== this.#errorsBefore) return undefined;
    return {
      name: this.#elem.qname,
      module: this.#elem.module,
      shortName: this.#elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(this.#elem.loc),
      id: raw.id ?? `${this.#ctx.modules.get(this.#elem.module)?.id ?? this.#elem.module}.${this.#elem.name}`,
      title: raw.title ?? this.#elem.name,
      parameters: this.#parameters,
      allowedRoles,
      widgets,
    };
  }

  #collectNames(widgets: readonly RawWidget[] | undefined, loc: Loc): void {
    (widgets ?? []).forEach((raw, i) => {
      const wloc = at(loc, i);
      if (raw.name !== undefined) {
        if (this.#names.has(raw.name)) {
          this.#ctx.diag.error(
            at(wloc, 'name'),
            ModelErrorCode.DuplicateName,
            `Widget name '${raw.name}' is used twice on this page.`,
            'Widget names are unique per page.',
          );
        } else {
          this.#names.set(raw.name, { raw, loc: wloc });
        }
      }
      this.#collectNames(raw.widgets, at(wloc, 'widgets'));
      this.#collectNames(raw.footer, at(wloc, 'footer'));
      this.#collectNames(raw.buttons, at(wloc, 'buttons'));
      (raw.rows ?? []).forEach((row, r) => {
        row.columns.forEach((column, c) => {
          this.#collectNames(column.widgets, at(wloc, 'rows', r, 'columns', c, 'widgets'));
        });
      });
    });
  }

  #env(contexts: readonly ContextObject[]): Env {
    const types = new Map<string, MxType>(GLOBAL_VARIABLES);
    for (const p of this.#parameters) types.set(p.name, p.type);
    const nearest = contexts.filter((c) => c.kind !== 'parameter').at(-1);
    if (nearest !== undefined) types.set('currentObject', { kind: 'Object', entity: nearest.entity });
    return { types, poisoned: new Set() };
  }

  #nearest(contexts: readonly ContextObject[]): ContextObject | undefined {
    return contexts.filter((c) => c.kind !== 'parameter').at(-1);
  }

  #widgets(
    widgets: readonly RawWidget[] | undefined,
    loc: Loc,
    contexts: readonly ContextObject[],
  ): Widget[] {
    const result: Widget[] = [];
    (widgets ?? []).forEach((raw, i) => {
      const widget = this.#widget(raw, at(loc, i), contexts);
      if (widget !== undefined) result.push(widget);
    });
    return result;
  }

  #isA(entity: string, other: string): boolean {
    const info = this.#ctx.entities.get(entity);
    return info !== undefined && (info.name === other || info.generalizations.includes(other));
  }

  /** Satisfies callee parameters with objects in context, nearest first. */
  #contextArguments(
    parameters: readonly Parameter[],
    contexts: readonly ContextObject[],
    loc: Loc,
    callee: string,
  ): Map<string, ContextReference> | undefined {
    const args = new Map<string, ContextReference>();
    let ok = true;
    for (const parameter of parameters) {
      if (parameter.type.kind !== 'Object') {
        ok = false;
        this.#ctx.diag.error(
          loc,
          ModelErrorCode.InvalidArguments,
          `${callee} has parameter '${parameter.name}' of type ${formatType(parameter.type)}, which a page cannot supply.`,
          'Pages pass the objects in context; give it only object parameters.',
        );
        continue;
      }
      const entity = parameter.type.entity;
      const match = [...contexts].reverse().find((c) => this.#isA(c.entity, entity));
      if (match === undefined) {
        ok = false;
        this.#ctx.diag.error(
          loc,
          ModelErrorCode.InvalidArguments,
          `No ${entity} object in context for parameter '${parameter.name}' of ${callee}.`,
          'Place the widget inside a data view or list of that entity, or give the page such a parameter.',
        );
        continue;
      }
      args.set(parameter.name, match.reference);
    }
    return ok ? args : undefined;
  }

  #action(
    raw: RawButtonAction,
    loc: Loc,
    contexts: readonly ContextObject[],
    inList: boolean,
  ): ButtonAction | undefined {
    const ctx = this.#ctx;
    const module = this.#elem.module;
    if (typeof raw === 'string') {
      const nearest = this.#nearest(contexts);
      if ((raw === 'save' || raw === 'cancel') && !contexts.some((c) => c.kind === 'dataView')) {
        ctx.diag.error(
          loc,
          ModelErrorCode.InvalidWidget,
          `A ${raw} button belongs in a data view: there is no object to ${raw === 'save' ? 'save' : 'roll back'} here.`,
          'Move it into a data view (its footer).',
        );
        return undefined;
      }
      if (raw === 'delete' && nearest === undefined && !inList) {
        ctx.diag.error(
          loc,
          ModelErrorCode.InvalidWidget,
          'A delete button needs an object: place it in a data view or a list.',
          '',
        );
        return undefined;
      }
      return { kind: raw };
    }
    if ('microflow' in raw) {
      const microflow = ctx.resolve('microflows', raw.microflow, module, at(loc, 'microflow'));
      const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
      if (microflow === undefined || signature === undefined) return undefined;
      const args = this.#contextArguments(
        signature.parameters,
        contexts,
        at(loc, 'microflow'),
        `Microflow ${microflow}`,
      );
      return args === undefined
        ? undefined
        : { kind: 'callMicroflow', microflow, arguments: args, closePage: raw.closePage ?? false };
    }
    const page = ctx.resolve('pages', raw.page, module, at(loc, 'page'));
    const parameters = page === undefined ? undefined : ctx.pageParameters.get(page);
    if (page === undefined || parameters === undefined) return undefined;
    const args = this.#contextArguments(parameters, contexts, at(loc, 'page'), `Page ${page}`);
    return args === undefined ? undefined : { kind: 'openPage', page, arguments: args };
  }

  #memberPath(text: string, entity: string, loc: Loc): MemberPath | undefined {
    const ctx = this.#ctx;
    const parts = text.split('/');
    const associations: string[] = [];
    let current = entity;
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const assocName = ctx.qualify(parts[i] ?? '', this.#elem.module);
      const association = ctx.associations.get(assocName);
      const info = ctx.entities.get(current);
      if (association === undefined || info === undefined) {
        ctx.diag.error(
          loc,
          ModelErrorCode.UnknownAssociation,
          `Unknown association '${assocName}' in path '${text}'.`,
          didYouMean(assocName, ctx.associations.keys()),
        );
        return undefined;
      }
      if (association.type !== 'Reference' || !ownsAssociation(info, association)) {
        ctx.diag.error(
          loc,
          ModelErrorCode.InvalidWidget,
          `Path '${text}' must follow references from ${current}; ${assocName} is not a reference ${current} owns.`,
          'Show reference sets with a list view over the association.',
        );
        return undefined;
      }
      const next = ctx.qualify(parts[i + 1] ?? '', this.#elem.module);
      if (
        next !== association.target &&
        !this.#isA(association.target, next) &&
        !this.#isA(next, association.target)
      ) {
        ctx.diag.error(
          loc,
          ModelErrorCode.InvalidWidget,
          `${assocName} leads to ${association.target}, not ${next}.`,
          `Write ${assocName}/${association.target}/...`,
        );
        return undefined;
      }
      associations.push(assocName);
      current = next;
    }
    if (parts.length % 2 === 0) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidWidget,
        `Path '${text}' must end in an attribute.`,
        'Write Attribute, or Module.Association/Module.Entity/Attribute.',
      );
      return undefined;
    }
    const attributeName = parts[parts.length - 1] ?? '';
    const attribute = ctx.entities.get(current)?.allAttributes.get(attributeName);
    if (attribute === undefined) {
      ctx.diag.error(
        loc,
        ModelErrorCode.UnknownAttribute,
        `Entity ${current} has no attribute '${attributeName}'.`,
        didYouMean(attributeName, ctx.entities.get(current)?.allAttributes.keys() ?? []),
      );
      return undefined;
    }
    return { text, associations, entity: current, attribute: attributeName, type: attribute.type };
  }

  #sort(raw: RawWidget, entity: string, loc: Loc): SortItem[] | undefined {
    const items: SortItem[] = [];
    let ok = true;
    const info = this.#ctx.entities.get(entity);
    for (const [name, order] of entries(raw.sort)) {
      const attribute = info?.allAttributes.get(name);
      if (
        attribute === undefined ||
        attribute.kind === 'Binary' ||
        attribute.kind === 'HashedString' ||
        attribute.calculatedBy !== undefined
      ) {
        ok = false;
        this.#ctx.diag.error(
          at(loc, 'sort', name),
          attribute === undefined ? ModelErrorCode.UnknownAttribute : ModelErrorCode.InvalidWidget,
          attribute === undefined
            ? `Entity ${entity} has no attribute '${name}'.`
            : `Cannot sort on '${name}'.`,
          didYouMean(name, info?.allAttributes.keys() ?? []),
          'key',
        );
        continue;
      }
      items.push({ attribute: name, descending: order === 'desc' });
    }
    return ok ? items : undefined;
  }

  /** The entity and source of a list view or data grid. */
  #listSource(
    raw: RawWidget,
    loc: Loc,
    contexts: readonly ContextObject[],
  ): { entity: string; source: ListSource } | undefined {
    const ctx = this.#ctx;
    const module = this.#elem.module;
    const given = (['entity', 'microflow', 'association'] as const).filter((k) => raw[k] !== undefined);
    if (given.length !== 1) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidWidget,
        `A ${raw.kind} needs one source: entity (database), microflow or association${given.length > 1 ? `, not ${given.join(' and ')}` : ''}.`,
        '',
        'key',
      );
      return undefined;
    }
    if (raw.entity === undefined && (raw.xpath !== undefined || raw.sort !== undefined)) {
      ctx.diag.error(
        at(loc, raw.xpath !== undefined ? 'xpath' : 'sort'),
        ModelErrorCode.InvalidWidget,
        'xpath and sort apply to a database source (entity).',
        '',
        'key',
      );
      return undefined;
    }
    if (raw.entity !== undefined) {
      const entity = ctx.resolve('entities', raw.entity, module, at(loc, 'entity'));
      const info = entity === undefined ? undefined : ctx.entities.get(entity);
      if (entity === undefined || info === undefined) return undefined;
      if (!info.persistable) {
        ctx.diag.error(
          at(loc, 'entity'),
          ModelErrorCode.InvalidWidget,
          `${entity} is not persistable: a database source cannot list it.`,
          'Use a microflow or association source.',
        );
        return undefined;
      }
      const xpath =
        raw.xpath === undefined
          ? undefined
          : compileXPathAt(ctx, at(loc, 'xpath'), raw.xpath, entity, this.#env(contexts));
      const sort = this.#sort(raw, entity, loc);
      if ((raw.xpath !== undefined && xpath === undefined) || sort === undefined) return undefined;
      return { entity, source: { kind: 'database', xpath, sort } };
    }
    if (raw.microflow !== undefined) {
      const microflow = ctx.resolve('microflows', raw.microflow, module, at(loc, 'microflow'));
      const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
      if (microflow === undefined || signature === undefined) return undefined;
      if (signature.returnType.kind !== 'List') {
        ctx.diag.error(
          at(loc, 'microflow'),
          ModelErrorCode.TypeMismatch,
          `Microflow ${microflow} returns ${formatType(signature.returnType)}; a list source needs a list.`,
          '',
        );
        return undefined;
      }
      const args = this.#contextArguments(
        signature.parameters,
        contexts,
        at(loc, 'microflow'),
        `Microflow ${microflow}`,
      );
      if (args === undefined) return undefined;
      return {
        entity: signature.returnType.entity,
        source: { kind: 'microflow', microflow, arguments: args },
      };
    }
    const association = ctx.resolve('associations', raw.association ?? '', module, at(loc, 'association'));
    const info = association === undefined ? undefined : ctx.associations.get(association);
    const from = this.#nearest(contexts) ?? contexts.at(-1);
    if (info === undefined) return undefined;
    if (from === undefined) {
      ctx.diag.error(
        at(loc, 'association'),
        ModelErrorCode.InvalidWidget,
        'An association source needs an object in context.',
        'Place the widget inside a data view.',
      );
      return undefined;
    }
    if (this.#isA(from.entity, info.owner) && info.type === 'ReferenceSet') {
      return {
        entity: info.target,
        source: { kind: 'association', association: info.name, from: from.reference },
      };
    }
    if (this.#isA(from.entity, info.target)) {
      return {
        entity: info.owner,
        source: { kind: 'association', association: info.name, from: from.reference },
      };
    }
    ctx.diag.error(
      at(loc, 'association'),
      ModelErrorCode.InvalidWidget,
      `${info.name} does not give a list from ${from.entity}.`,
      'Use a reference set the object owns, or a reference pointing at it.',
    );
    return undefined;
  }

  #listEntityOf(name: string): string | undefined {
    const target = this.#names.get(name);
    if (target === undefined) return undefined;
    const raw = target.raw;
    if (raw.kind !== 'listView' && raw.kind !== 'dataGrid') return undefined;
    if (raw.entity !== undefined) return this.#ctx.qualify(raw.entity, this.#elem.module);
    if (raw.microflow !== undefined) {
      const type = this.#ctx.microflowSignatures.get(
        this.#ctx.qualify(raw.microflow, this.#elem.module),
      )?.returnType;
      return type?.kind === 'List' ? type.entity : undefined;
    }
    return undefined;
  }

  #dataViewSource(
    raw: RawWidget,
    loc: Loc,
    contexts: readonly ContextObject[],
  ): { entity: string; source: DataViewSource } | undefined {
    const ctx = this.#ctx;
    const module = this.#elem.module;
    const given = (['parameter', 'microflow', 'association', 'listenTo'] as const).filter(
      (k) => raw[k] !== undefined,
    );
    if (given.length !== 1) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidWidget,
        `A data view needs one source: parameter, microflow, association or listenTo${given.length > 1 ? `, not ${given.join(' and ')}` : ''}.`,
        '',
        'key',
      );
      return undefined;
    }
    if (raw.parameter !== undefined) {
      const parameter = this.#parameters.find((p) => p.name === raw.parameter);
      if (parameter === undefined || parameter.type.kind !== 'Object') {
        ctx.diag.error(
          at(loc, 'parameter'),
          ModelErrorCode.UnknownParameter,
          `The page has no parameter '${raw.parameter}'.`,
          didYouMean(
            raw.parameter,
            this.#parameters.map((p) => p.name),
          ) || 'Declare it under the page parameters.',
        );
        return undefined;
      }
      return { entity: parameter.type.entity, source: { kind: 'parameter', parameter: parameter.name } };
    }
    if (raw.microflow !== undefined) {
      const microflow = ctx.resolve('microflows', raw.microflow, module, at(loc, 'microflow'));
      const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
      if (microflow === undefined || signature === undefined) return undefined;
      if (signature.returnType.kind !== 'Object') {
        ctx.diag.error(
          at(loc, 'microflow'),
          ModelErrorCode.TypeMismatch,
          `Microflow ${microflow} returns ${formatType(signature.returnType)}; a data view needs an object.`,
          '',
        );
        return undefined;
      }
      const args = this.#contextArguments(
        signature.parameters,
        contexts,
        at(loc, 'microflow'),
        `Microflow ${microflow}`,
      );
      if (args === undefined) return undefined;
      return {
        entity: signature.returnType.entity,
        source: { kind: 'microflow', microflow, arguments: args },
      };
    }
    if (raw.listenTo !== undefined) {
      const entity = this.#listEntityOf(raw.listenTo);
      if (entity === undefined) {
        const exists = this.#names.has(raw.listenTo);
        ctx.diag.error(
          at(loc, 'listenTo'),
          exists ? ModelErrorCode.InvalidWidget : ModelErrorCode.UnknownWidget,
          exists
            ? `'${raw.listenTo}' is not a list view or data grid with a database or microflow source.`
            : `There is no widget named '${raw.listenTo}' on this page.`,
          didYouMean(raw.listenTo, this.#names.keys()),
        );
        return undefined;
      }
      return { entity, source: { kind: 'listenTo', widget: raw.listenTo } };
    }
    const association = ctx.resolve('associations', raw.association ?? '', module, at(loc, 'association'));
    const info = association === undefined ? undefined : ctx.associations.get(association);
    const from = this.#nearest(contexts) ?? contexts.at(-1);
    if (info === undefined) return undefined;
    const owner = from === undefined ? undefined : ctx.entities.get(from.entity);
    if (
      from === undefined ||
      owner === undefined ||
      info.type !== 'Reference' ||
      !ownsAssociation(owner, info)
    ) {
      ctx.diag.error(
        at(loc, 'association'),
        ModelErrorCode.InvalidWidget,
        `A data view over an association follows a reference of the object in context${from === undefined ? ', and there is none' : `; ${info.name} is not a reference ${from.entity} owns`}.`,
        '',
      );
      return undefined;
    }
    const entity = [owner.name, ...owner.generalizations].includes(info.owner) ? info.target : info.owner;
    return { entity, source: { kind: 'association', association: info.name, from: from.reference } };
  }

  #widget(raw: RawWidget, loc: Loc, contexts: readonly ContextObject[]): Widget | undefined {
    const ctx = this.#ctx;
    const env = this.#env(contexts);
    const visible =
      raw.visible === undefined ? undefined : compileExpr(ctx, at(loc, 'visible'), raw.visible, env, BOOLEAN);
    const path = modelPath(loc);
    const base = { id: raw.name ?? path, name: raw.name, path, visible, class: raw.class };
    const nearest = this.#nearest(contexts);
    const inputContext = (): { entity: string; editable: boolean } | undefined => {
      if (nearest === undefined) {
        ctx.diag.error(
          at(loc, 'kind'),
          ModelErrorCode.InvalidWidget,
          `A ${raw.kind} needs an object: place it inside a data view or list view.`,
          '',
        );
        return undefined;
      }
      return nearest;
    };
    switch (raw.kind) {
      case 'dataView': {
        const source = this.#dataViewSource(raw, loc, contexts);
        if (source === undefined) return undefined;
        const editable = raw.editable ?? true;
        const inner: ContextObject[] = [
          ...contexts,
          {
            reference: { kind: 'container', widget: base.id },
            entity: source.entity,
            kind: 'dataView',
            editable,
          },
        ];
        const widgets = this.#widgets(raw.widgets, at(loc, 'widgets'), inner);
        const footer = this.#widgets(raw.footer, at(loc, 'footer'), inner);
        return {
          ...base,
          kind: 'dataView',
          entity: source.entity,
          source: source.source,
          editable,
          widgets,
          footer,
        };
      }
      case 'listView':
      case 'dataGrid': {
        const source = this.#listSource(raw, loc, contexts);
        if (source === undefined) return undefined;
        const inner: ContextObject[] = [
          ...contexts,
          {
            reference: { kind: 'container', widget: base.id },
            entity: source.entity,
            kind: 'listItem',
            editable: false,
          },
        ];
        const onClick =
          raw.onClick === undefined ? undefined : this.#action(raw.onClick, at(loc, 'onClick'), inner, true);
        if (raw.onClick !== undefined && onClick === undefined) return undefined;
        const pageSize = raw.pageSize ?? 20;
        if (raw.kind === 'listView') {
          const widgets = this.#widgets(raw.widgets, at(loc, 'widgets'), inner);
          return {
            ...base,
            kind: 'listView',
            entity: source.entity,
            source: source.source,
            pageSize,
            widgets,
            onClick,
          };
        }
        const columns: { path: MemberPath; caption: string; width: number | undefined }[] = [];
        (raw.columns ?? []).forEach((column, i) => {
          const text = typeof column === 'string' ? column : column.attribute;
          const columnLoc =
            typeof column === 'string' ? at(loc, 'columns', i) : at(loc, 'columns', i, 'attribute');
          const memberPath = this.#memberPath(text, source.entity, columnLoc);
          if (memberPath === undefined) return;
          const caption =
            typeof column === 'string' ? memberPath.attribute : (column.caption ?? memberPath.attribute);
          columns.push({
            path: memberPath,
            caption,
            width: typeof column === 'string' ? undefined : column.width,
          });
        });
        const search: MemberPath[] = [];
        (raw.search ?? []).forEach((text, i) => {
          const memberPath = this.#memberPath(text, source.entity, at(loc, 'search', i));
          if (memberPath === undefined) return;
          const attribute = ctx.entities.get(memberPath.entity)?.allAttributes.get(memberPath.attribute);
          if (
            attribute !== undefined &&
            (attribute.kind === 'HashedString' ||
              attribute.kind === 'Binary' ||
              attribute.calculatedBy !== undefined)
          ) {
            ctx.diag.error(
              at(loc, 'search', i),
              ModelErrorCode.InvalidWidget,
              `Cannot search on '${text}'.`,
              'Hashed, binary and calculated attributes cannot be filtered on.',
            );
            return;
          }
          search.push(memberPath);
        });
        const buttons = this.#widgets(raw.buttons, at(loc, 'buttons'), inner);
        buttons.forEach((button, i) => {
          if (button.kind !== 'button') {
            ctx.diag.error(
              at(loc, 'buttons', i, 'kind'),
              ModelErrorCode.InvalidWidget,
              `Only buttons go in a data grid's buttons, not a ${button.kind}.`,
              '',
            );
          }
        });
        return {
          ...base,
          kind: 'dataGrid',
          entity: source.entity,
          source: source.source,
          pageSize,
          columns,
          search,
          buttons,
          onClick,
        };
      }
      case 'textBox':
      case 'textArea':
      case 'dropDown':
      case 'checkBox':
      case 'datePicker': {
        const context = inputContext();
        if (context === undefined || raw.attribute === undefined) return undefined;
        const attribute = ctx.entities.get(context.entity)?.allAttributes.get(raw.attribute);
        if (attribute === undefined) {
          ctx.diag.error(
            at(loc, 'attribute'),
            ModelErrorCode.UnknownAttribute,
            `Entity ${context.entity} has no attribute '${raw.attribute}'.`,
            didYouMean(raw.attribute, ctx.entities.get(context.entity)?.allAttributes.keys() ?? []),
          );
          return undefined;
        }
        const fits: Record<typeof raw.kind, readonly string[]> = {
          textBox: [
            'String',
            'HashedString',
            'Integer',
            'Long',
            'Decimal',
            'AutoNumber',
            'DateTime',
            'Enumeration',
          ],
          textArea: ['String'],
          dropDown: ['Enumeration', 'Boolean'],
          checkBox: ['Boolean'],
          datePicker: ['DateTime'],
        };
        if (!fits[raw.kind].includes(attribute.kind)) {
          ctx.diag.error(
            at(loc, 'attribute'),
            ModelErrorCode.InvalidWidget,
            `A ${raw.kind} cannot edit ${attribute.kind} attribute '${attribute.name}'.`,
            `It works with ${fits[raw.kind].join(', ')}.`,
          );
          return undefined;
        }
        const writable =
          attribute.kind !== 'AutoNumber' && attribute.calculatedBy === undefined && !attribute.system;
        if (raw.editable === true && !writable) {
          ctx.diag.error(
            at(loc, 'editable'),
            ModelErrorCode.InvalidWidget,
            `'${attribute.name}' cannot be edited: it is set by the ${attribute.calculatedBy !== undefined ? 'calculation' : 'server'}.`,
            'Remove editable.',
          );
          return undefined;
        }
        return {
          ...base,
          kind: raw.kind,
          attribute: attribute.name,
          attributeType: attribute.type,
          label: raw.label ?? attribute.name,
          editable: (raw.editable ?? context.editable) && writable,
          required: raw.required ?? false,
          placeholder: raw.placeholder,
        };
      }
      case 'referenceSelector': {
        const context = inputContext();
        if (context === undefined) return undefined;
        const association = ctx.resolve(
          'associations',
          raw.association ?? '',
          this.#elem.module,
          at(loc, 'association'),
        );
        const info = association === undefined ? undefined : ctx.associations.get(association);
        const owner = ctx.entities.get(context.entity);
        if (info === undefined || owner === undefined) return undefined;
        if (info.type !== 'Reference' || !ownsAssociation(owner, info)) {
          ctx.diag.error(
            at(loc, 'association'),
            ModelErrorCode.InvalidWidget,
            `A reference selector sets a reference of the object in context; ${info.name} is not a reference ${owner.name} owns.`,
            '',
          );
          return undefined;
        }
        const target = [owner.name, ...owner.generalizations].includes(info.owner) ? info.target : info.owner;
        const display = ctx.entities.get(target)?.allAttributes.get(raw.display ?? '');
        if (display === undefined) {
          ctx.diag.error(
            at(loc, 'display'),
            ModelErrorCode.UnknownAttribute,
            `Entity ${target} has no attribute '${raw.display ?? ''}'.`,
            didYouMean(raw.display ?? '', ctx.entities.get(target)?.allAttributes.keys() ?? []),
          );
          return undefined;
        }
        const xpath =
          raw.xpath === undefined ? undefined : compileXPathAt(ctx, at(loc, 'xpath'), raw.xpath, target, env);
        if (raw.xpath !== undefined && xpath === undefined) return undefined;
        return {
          ...base,
          kind: 'referenceSelector',
          association: info.name,
          targetEntity: target,
          display: display.name,
          label: raw.label ?? info.shortName,
          editable: raw.editable ?? context.editable,
          required: raw.required ?? false,
          xpath,
        };
      }
      case 'button': {
        const action =
          raw.action === undefined
            ? undefined
            : this.#action(raw.action, at(loc, 'action'), contexts, nearest?.kind === 'listItem');
        if (action === undefined) return undefined;
        return { ...base, kind: 'button', caption: raw.caption ?? '', style: raw.style ?? 'default', action };
      }
      case 'fileUploader':
      case 'imageViewer': {
        const context = inputContext();
        if (context === undefined) return undefined;
        const needed = raw.kind === 'fileUploader' ? 'System.FileDocument' : 'System.Image';
        if (!this.#isA(context.entity, needed)) {
          ctx.diag.error(
            at(loc, 'kind'),
            ModelErrorCode.InvalidWidget,
            `A ${raw.kind} needs a ${needed} in context; ${context.entity} is not one.`,
            `Let ${context.entity} specialise ${needed}.`,
          );
          return undefined;
        }
        if (raw.kind === 'fileUploader')
          return {
            ...base,
            kind: 'fileUploader',
            label: raw.label ?? 'File',
            editable: raw.editable ?? context.editable,
          };
        return { ...base, kind: 'imageViewer', width: raw.width, height: raw.height };
      }
      case 'container':
        return {
          ...base,
          kind: 'container',
          widgets: this.#widgets(raw.widgets, at(loc, 'widgets'), contexts),
        };
      case 'text': {
        const template = compileTemplate(ctx, loc, raw.template ?? '', raw.parameters, env);
        if (template === undefined) return undefined;
        return { ...base, kind: 'text', template, style: raw.style ?? 'paragraph' };
      }
      case 'layoutGrid': {
        const rows = (raw.rows ?? []).map((row, r) => {
          const total = row.columns.reduce((sum, c) => sum + (c.width ?? 0), 0);
          if (total > 12) {
            ctx.diag.error(
              at(loc, 'rows', r, 'columns'),
              ModelErrorCode.InvalidWidget,
              `The columns of this row are ${total} wide; a row is 12.`,
              'Make the widths add up to 12 or less.',
              'key',
            );
          }
          return {
            columns: row.columns.map((column, c) => ({
              width: column.width,
              widgets: this.#widgets(column.widgets, at(loc, 'rows', r, 'columns', c, 'widgets'), contexts),
            })),
          };
        });
        return { ...base, kind: 'layoutGrid', rows };
      }
    }
  }
}
