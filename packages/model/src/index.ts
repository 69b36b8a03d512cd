/**
 * The app model: its format (a folder of YAML or JSON files, checked by the JSON Schema
 * in `schema/runplane-model.schema.json`), the loader that checks it like a compiler —
 * every error with file, line:column, model path, message and hint — and the immutable
 * compiled model the runtime works from.
 *
 * ```ts
 * const result = await loadModel('examples/orders');
 * if (!result.ok) for (const e of result.errors) console.log(formatModelError(e));
 * else result.model.entities.get('Sales.Order');
 * ```
 */
export {
  loadModel,
  loadModelFromFiles,
  loadModelOrThrow,
  readModelFiles,
  type LoadResult,
} from './loader.js';
export { ModelErrorCode, ModelLoadError, formatModelError, type ModelError } from './errors.js';
export type { ModelSourceFile } from './source/parsed-file.js';
export { buildModelSchema, MODEL_SCHEMA_ID } from './schema/model-schema.js';
export { ImmutableMap } from './compiled/freeze.js';
export { SPECIALISABLE_SYSTEM_ENTITIES } from './system-module.js';
export { passwordProblem } from './check/app.js';
export { parseCron } from './check/cron.js';
export { summarizeModel, type ModelSummary } from './summary.js';
export {
  AttributeKind,
  type AccessRule,
  type Association,
  type Attribute,
  type AttributeDefault,
  type ButtonAction,
  type CommitOption,
  type CompiledModel,
  type Constant,
  type ContextReference,
  type CronSchedule,
  type CustomAction,
  type DataViewSource,
  type DeleteBehavior,
  type DemoUser,
  type ElementSource,
  type Entity,
  type Enumeration,
  type ErrorHandling,
  type EventHandler,
  type Flow,
  type HttpMethod,
  type Index,
  type Interval,
  type ListSource,
  type MemberAccess,
  type MemberChange,
  type MemberPath,
  type MenuItem,
  type Microflow,
  type MicroflowNode,
  type MicroflowNodeKind,
  type ModelExpression,
  type ModelTemplate,
  type ModelXPath,
  type Module,
  type ModuleRole,
  type Navigation,
  type NavigationTarget,
  type NthWeekday,
  type Page,
  type Parameter,
  type PasswordPolicy,
  type RestOperation,
  type RestParameter,
  type RestService,
  type ScheduledEvent,
  type Security,
  type Settings,
  type SortItem,
  type SystemMembers,
  type TaskQueue,
  type TimeOfDay,
  type UserRole,
  type ValidationRule,
  type Weekday,
  type Widget,
  type WidgetKind,
} from './compiled/types.js';
