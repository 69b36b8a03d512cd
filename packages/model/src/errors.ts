import { UserError } from '@runplane/errors';

/**
 * The stable codes of model errors, one per kind of mistake. Errors of the languages
 * package (expressions and XPath) keep their own codes.
 */
export const ModelErrorCode = {
  /** A file could not be read, or no model files were found. */
  Io: 'MODEL_IO',
  /** The YAML or JSON text cannot be parsed. */
  Syntax: 'MODEL_SYNTAX',
  /** The file does not match the JSON Schema of the model format. */
  Schema: 'MODEL_SCHEMA',
  /** Two elements of the same kind (or of one namespace) share a name. */
  DuplicateName: 'MODEL_DUPLICATE_NAME',
  /** Two elements share a stable element id. */
  DuplicateId: 'MODEL_DUPLICATE_ID',
  UnknownModule: 'MODEL_UNKNOWN_MODULE',
  UnknownEntity: 'MODEL_UNKNOWN_ENTITY',
  UnknownAttribute: 'MODEL_UNKNOWN_ATTRIBUTE',
  UnknownAssociation: 'MODEL_UNKNOWN_ASSOCIATION',
  UnknownMember: 'MODEL_UNKNOWN_MEMBER',
  UnknownEnumeration: 'MODEL_UNKNOWN_ENUMERATION',
  UnknownEnumerationValue: 'MODEL_UNKNOWN_ENUMERATION_VALUE',
  UnknownConstant: 'MODEL_UNKNOWN_CONSTANT',
  UnknownMicroflow: 'MODEL_UNKNOWN_MICROFLOW',
  UnknownAction: 'MODEL_UNKNOWN_ACTION',
  UnknownPage: 'MODEL_UNKNOWN_PAGE',
  UnknownModuleRole: 'MODEL_UNKNOWN_MODULE_ROLE',
  UnknownUserRole: 'MODEL_UNKNOWN_USER_ROLE',
  UnknownTaskQueue: 'MODEL_UNKNOWN_TASK_QUEUE',
  UnknownVariable: 'MODEL_UNKNOWN_VARIABLE',
  UnknownNode: 'MODEL_UNKNOWN_NODE',
  UnknownParameter: 'MODEL_UNKNOWN_PARAMETER',
  UnknownWidget: 'MODEL_UNKNOWN_WIDGET',
  /** A type name that is neither a primitive type, an entity nor an enumeration. */
  UnknownType: 'MODEL_UNKNOWN_TYPE',
  /** A value, variable or expression of the wrong type for where it is used. */
  TypeMismatch: 'MODEL_TYPE_MISMATCH',
  /** A literal value (default, constant, range bound) that does not fit its type. */
  InvalidValue: 'MODEL_INVALID_VALUE',
  /** A generalization chain that loops back on itself. */
  InheritanceCycle: 'MODEL_INHERITANCE_CYCLE',
  /** A rule of the Mendix domain model is broken (e.g. a System entity specialised). */
  InvalidDomain: 'MODEL_INVALID_DOMAIN',
  /** An access rule that contradicts the entity it is on. */
  InvalidAccessRule: 'MODEL_INVALID_ACCESS_RULE',
  /** A parameter or argument is missing, extra or of the wrong kind. */
  InvalidArguments: 'MODEL_INVALID_ARGUMENTS',
  /** A microflow's flow graph is malformed: dangling target, unreachable node, no end, ... */
  InvalidFlow: 'MODEL_INVALID_FLOW',
  /** A decision does not cover every case of its expression's type. */
  MissingCase: 'MODEL_MISSING_CASE',
  /** A page widget placed where it cannot work (an input outside a data view, ...). */
  InvalidWidget: 'MODEL_INVALID_WIDGET',
  /** A published REST service or operation that cannot be served. */
  InvalidRest: 'MODEL_INVALID_REST',
  /** A scheduled event's interval or cron expression is not valid. */
  InvalidSchedule: 'MODEL_INVALID_SCHEDULE',
  /** A problem with the app file: missing, duplicated, or inconsistent security settings. */
  InvalidApp: 'MODEL_INVALID_APP',
} as const;
/** A code of {@link ModelErrorCode}. */
export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

/**
 * One problem found in a model, located like a compiler error.
 *
 * `file` is the path of the file relative to the model directory (with `/` separators),
 * `line` and `column` count from 1, `path` is the model path of the element
 * (e.g. `Sales/microflows/PlaceOrder/nodes/checkStock/expression`).
 */
export interface ModelError {
  /** A {@link ModelErrorCode}, or a code of the languages package for expression and XPath errors. */
  readonly code: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
  /** What to do about it; empty when there is nothing useful to add. */
  readonly hint: string;
}

/** Formats an error as `file:line:col  path  message`, the form the CLI prints. */
export function formatModelError(error: ModelError): string {
  return `${error.file}:${error.line}:${error.column}  ${error.path}  ${error.message}`;
}

/**
 * Thrown by services that must refuse to start on a bad model. Carries every error
 * found; its message lists them, one per line.
 */
export class ModelLoadError extends UserError {
  readonly errors: readonly ModelError[];

  constructor(errors: readonly ModelError[], source: string) {
    const shown = errors.slice(0, 50).map(formatModelError);
    const more = errors.length > shown.length ? [`... and ${errors.length - shown.length} more`] : [];
    super({
      code: 'MODEL_INVALID',
      message: [`The app model at ${source} has ${errors.length} error(s):`, ...shown, ...more].join('\n'),
      details: { source, errors: errors.map((e) => ({ ...e })) },
    });
    this.errors = errors;
  }
}
