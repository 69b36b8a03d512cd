/** Checking the arguments of a microflow run against its parameters. */
import {
  Decimal,
  entityIsA,
  formatType,
  isDecimal,
  isMxObject,
  type MxObjectValue,
  type MxType,
  type MxValue,
} from '@runplane/expressions';
import type { CompiledModel, Microflow } from '@runplane/model';
import { engineError, MicroflowErrorCode } from '../errors.js';

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

function describe(value: MxValue): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (isMxObject(value)) return `an object of ${value.entity}`;
  if (isDecimal(value)) return 'a Decimal';
  if (value instanceof Date) return 'a date';
  if (value instanceof Uint8Array) return 'binary data';
  return `a ${typeof value}`;
}

/** The value as the parameter type holds it, or undefined when it does not fit. */
function fit(value: MxValue, type: MxType, model: CompiledModel): MxValue | undefined {
  if (value === null) return type.kind === 'List' ? [] : null;
  switch (type.kind) {
    case 'String':
      return typeof value === 'string' ? value : undefined;
    case 'Enumeration': {
      const keys = model.enumerations.get(type.enumeration)?.values.map((v) => v.key) ?? [];
      return typeof value === 'string' && keys.includes(value) ? value : undefined;
    }
    case 'Integer':
      return typeof value === 'bigint' && value >= INT_MIN && value <= INT_MAX ? value : undefined;
    case 'Long':
      return typeof value === 'bigint' ? value : undefined;
    case 'Decimal':
      return isDecimal(value) ? value : typeof value === 'bigint' ? new Decimal(value.toString()) : undefined;
    case 'Boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'DateTime':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
    case 'Binary':
      return value instanceof Uint8Array ? value : undefined;
    case 'Object':
      return isMxObject(value) && entityIsA(model.schema, value.entity, type.entity) ? value : undefined;
    case 'List':
      // A copy: the run changes lists in place, the caller's array stays its own.
      return Array.isArray(value) &&
        value.every((item) => isMxObject(item) && entityIsA(model.schema, item.entity, type.entity))
        ? [...(value as readonly MxObjectValue[])]
        : undefined;
    default:
      return undefined;
  }
}

/**
 * The arguments of a run, by parameter: unknown names and values of the wrong type are
 * refused with `MICROFLOW_ARGUMENT_INVALID`; missing parameters are empty (lists: empty lists).
 */
export function checkArguments(
  model: CompiledModel,
  microflow: Microflow,
  args: ReadonlyMap<string, MxValue>,
): Map<string, MxValue> {
  for (const name of args.keys()) {
    if (!microflow.parameters.some((p) => p.name === name)) {
      throw engineError(
        MicroflowErrorCode.ArgumentInvalid,
        `${microflow.name} has no parameter '${name}'. Its parameters: ${microflow.parameters.map((p) => p.name).join(', ') || 'none'}.`,
        { details: { microflow: microflow.name, parameter: name } },
      );
    }
  }
  const checked = new Map<string, MxValue>();
  for (const parameter of microflow.parameters) {
    const value = args.get(parameter.name) ?? null;
    const fitted = fit(value, parameter.type, model);
    if (fitted === undefined) {
      throw engineError(
        MicroflowErrorCode.ArgumentInvalid,
        `Parameter '${parameter.name}' of ${microflow.name} is ${formatType(parameter.type)}, but the argument is ${describe(value)}.`,
        {
          details: {
            microflow: microflow.name,
            parameter: parameter.name,
            expected: formatType(parameter.type),
          },
        },
      );
    }
    checked.set(parameter.name, fitted);
  }
  return checked;
}

/** A value as a type holds it, or undefined when it does not fit (for the results of custom actions). */
export function fitValue(value: MxValue, type: MxType, model: CompiledModel): MxValue | undefined {
  if (type.kind === 'Void') return null;
  return fit(value, type, model);
}
