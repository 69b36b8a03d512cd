/**
 * Signatures of microflows, custom actions and pages: what callers, event handlers,
 * buttons and REST operations check their arguments against.
 */
import { ModelErrorCode } from '../errors.js';
import type { MxType } from '../languages.js';
import type { Parameter } from '../compiled/types.js';
import type { RawTypeRef } from '../raw.js';
import { at, elementSource, type Loc } from './diagnostics.js';
import { entries, type Context } from './context.js';

/** Variable names the runtime defines; parameters and outputs may not take them. */
export const RESERVED_VARIABLES = [
  'currentUser',
  'currentSession',
  'latestError',
  'latestHttpResponse',
  'latestSoapFault',
  'currentIndex',
  'currentObject',
] as const;

/** Parameters declared as `name: Type`; unknown types are reported. */
export function compileParameters(
  ctx: Context,
  raw: Readonly<Record<string, RawTypeRef>> | undefined,
  module: string,
  loc: Loc,
): { parameters: Parameter[]; complete: boolean } {
  const parameters: Parameter[] = [];
  let complete = true;
  for (const [name, typeRef] of entries(raw)) {
    const paramLoc = at(loc, name);
    if ((RESERVED_VARIABLES as readonly string[]).includes(name)) {
      ctx.diag.error(
        paramLoc,
        ModelErrorCode.DuplicateName,
        `'${name}' is a name the runtime uses for $${name}.`,
        'Rename the parameter.',
        'key',
      );
      complete = false;
      continue;
    }
    const type = ctx.parseType(typeRef, module, paramLoc);
    if (type === undefined) {
      complete = false;
      continue;
    }
    parameters.push({ name, type });
  }
  return { parameters, complete };
}

/** Signatures of every microflow, custom action and page. */
export function compileSignatures(ctx: Context): void {
  for (const elem of ctx.elements.microflows.values()) {
    const { parameters, complete } = compileParameters(
      ctx,
      elem.raw.parameters,
      elem.module,
      at(elem.loc, 'parameters'),
    );
    let returnType: MxType | undefined = { kind: 'Void' };
    if (elem.raw.returnType !== undefined) {
      returnType = ctx.parseType(elem.raw.returnType, elem.module, at(elem.loc, 'returnType'), {
        allowVoid: true,
      });
    }
    if (!complete || returnType === undefined) {
      // Callers cannot be checked against a broken signature; do not report them.
      ctx.broken.add(elem.qname);
    }
    ctx.microflowSignatures.set(elem.qname, { parameters, returnType: returnType ?? { kind: 'Void' } });
  }
  for (const elem of ctx.elements.customActions.values()) {
    const { parameters, complete } = compileParameters(
      ctx,
      elem.raw.parameters,
      elem.module,
      at(elem.loc, 'parameters'),
    );
    let returnType: MxType | undefined = { kind: 'Void' };
    if (elem.raw.returnType !== undefined) {
      returnType = ctx.parseType(elem.raw.returnType, elem.module, at(elem.loc, 'returnType'), {
        allowVoid: true,
      });
    }
    if (!complete || returnType === undefined) ctx.broken.add(elem.qname);
    const signature = { parameters, returnType: returnType ?? { kind: 'Void' } } as const;
    ctx.actionSignatures.set(elem.qname, signature);
    ctx.customActions.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: elem.raw.documentation ?? '',
      source: elementSource(elem.loc),
      parameters: signature.parameters,
      returnType: signature.returnType,
    });
  }
  for (const elem of ctx.elements.pages.values()) {
    const parameters: Parameter[] = [];
    for (const [name, ref] of entries(elem.raw.parameters)) {
      const entity = ctx.resolve('entities', ref, elem.module, at(elem.loc, 'parameters', name));
      if (entity === undefined) {
        ctx.broken.add(elem.qname);
        continue;
      }
      if ((RESERVED_VARIABLES as readonly string[]).includes(name)) {
        ctx.diag.error(
          at(elem.loc, 'parameters', name),
          ModelErrorCode.DuplicateName,
          `'${name}' is a name the runtime uses for $${name}.`,
          'Rename the parameter.',
          'key',
        );
        continue;
      }
      parameters.push({ name, type: { kind: 'Object', entity } });
    }
    ctx.pageParameters.set(elem.qname, parameters);
  }
}
