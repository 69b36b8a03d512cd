import { createHash } from 'node:crypto';

/**
 * A stable content hash of the model: SHA-256 over the canonical JSON of every module
 * (modules and their elements in name order, elements as written) and the app file.
 * Comments, formatting and how modules are split over files do not change it.
 */
export function modelVersion(
  modules: ReadonlyMap<
    string,
    { readonly meta: unknown; readonly sections: ReadonlyMap<string, ReadonlyMap<string, unknown>> }
  >,
  app: unknown,
): string {
  const canonical = {
    app: app ?? null,
    modules: [...modules.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, module]) => ({
        name,
        meta: module.meta,
        sections: [...module.sections.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([section, elements]) => [
            section,
            [...elements.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          ]),
      })),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
