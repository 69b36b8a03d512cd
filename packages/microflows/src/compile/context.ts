/** What node builders get while a model is compiled. */
import { toStringValue, type MxValue } from '@runplane/expressions';
import type { CompiledModel, MicroflowNode } from '@runplane/model';
import type { MxObject } from '@runplane/persistence';
import { engineError, MicroflowErrorCode } from '../errors.js';
import type { CompiledMicroflow, Frame, Next, Step } from '../runtime/state.js';

/** The compile-time view a node builder needs. */
export interface CompileContext {
  readonly model: CompiledModel;
  /** A microflow by qualified name (its start step is filled in once every microflow is compiled). */
  microflow(name: string): CompiledMicroflow;
  /** A step of the microflow being compiled, by node name (every step exists before any is built). */
  step(name: string): Step;
}

/** The node of kind `K`. */
export type NodeOf<K extends MicroflowNode['kind']> = Extract<MicroflowNode, { kind: K }>;

/** What a builder returns: the step's `exec`. */
export type Exec = (frame: Frame) => Next | Promise<Next>;

/** Builds the `exec` of a node; `step.next` and `step.errorNext` are already resolved. */
export type NodeBuilder<K extends MicroflowNode['kind']> = (
  node: NodeOf<K>,
  step: Step,
  ctx: CompileContext,
) => Exec;

/** The object in a variable, or an error naming the node when it is empty. */
export function objectIn(frame: Frame, variable: string): MxObject {
  const value = frame.vars.get(variable);
  if (
    value === null ||
    value === undefined ||
    Array.isArray(value) ||
    typeof value !== 'object' ||
    !('id' in value)
  ) {
    throw engineError(
      MicroflowErrorCode.ObjectEmpty,
      `$${variable} is empty: there is no object to work on.`,
      { details: { variable } },
    );
  }
  return value as MxObject;
}

/** The objects in a variable holding an object or a list (none when empty). */
export function objectsIn(frame: Frame, variable: string): MxObject[] {
  const value = frame.vars.get(variable);
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value as MxObject[];
  return [value as MxObject];
}

/** The list in a list variable: the same array every holder shares (lists are passed by reference). */
export function listIn(frame: Frame, variable: string): MxObject[] {
  const value = frame.vars.get(variable);
  if (Array.isArray(value)) return value as MxObject[];
  if (value === null || value === undefined) {
    const list: MxObject[] = [];
    frame.vars.set(variable, list);
    return list;
  }
  return [value as MxObject];
}

/** Objects of an object-or-list value. */
export function objectsOfValue(value: MxValue): MxObject[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value as MxObject[];
  return [value as MxObject];
}

/** A non-negative count (offset or amount of a range) from an Integer or Long value; empty is 0. */
export function toCount(value: MxValue, what: string): number {
  if (value === null) return 0;
  const n = typeof value === 'bigint' ? Number(value) : Number(toStringValue(value));
  if (!Number.isSafeInteger(n) || n < 0) {
    throw engineError(
      MicroflowErrorCode.ArgumentInvalid,
      `The ${what} of a range must be 0 or more, not ${toStringValue(value)}.`,
    );
  }
  return n;
}
