import type { CompiledModel } from './compiled/types.js';

/** Counts of what a model holds (the System module excluded). */
export interface ModelSummary {
  readonly modules: number;
  readonly entities: number;
  readonly associations: number;
  readonly enumerations: number;
  readonly constants: number;
  readonly microflows: number;
  readonly pages: number;
  readonly scheduledEvents: number;
  readonly restServices: number;
  readonly userRoles: number;
}

/** Counts the elements of a model, leaving out the built-in System module. */
export function summarizeModel(model: CompiledModel): ModelSummary {
  const own = <T extends { readonly module: string }>(items: ReadonlyMap<string, T>): number =>
    [...items.values()].filter((item) => item.module !== 'System').length;
  return {
    modules: [...model.modules.values()].filter((m) => !m.builtIn).length,
    entities: own(model.entities),
    associations: own(model.associations),
    enumerations: own(model.enumerations),
    constants: own(model.constants),
    microflows: own(model.microflows),
    pages: own(model.pages),
    scheduledEvents: own(model.scheduledEvents),
    restServices: own(model.restServices),
    userRoles: model.security.userRoles.size,
  };
}
