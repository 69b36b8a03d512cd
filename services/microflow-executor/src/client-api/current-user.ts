/**
 * `$currentUser` and `$currentSession` for a run. They are objects the engine needs before
 * the run starts, so loading them costs a query per request; a model whose microflows never
 * mention them skips it.
 */
import type { MicroflowUser } from '@runplane/microflows';
import type { CompiledModel } from '@runplane/model';
import type { RunplaneUnitOfWork, UnitOfWork } from '@runplane/persistence';

/** Who runs a request, as the engine needs it. */
export interface RunUser {
  readonly userId: string | undefined;
  readonly userName: string;
  readonly language: string;
  readonly sessionIdHash: string;
}

/** Maps and the model's own immutable maps (which keep their entries private). */
function isMapLike(value: object): value is ReadonlyMap<unknown, unknown> {
  const candidate = value as Partial<ReadonlyMap<unknown, unknown>>;
  return typeof candidate.values === 'function' && typeof candidate.get === 'function';
}

/** The needles found in any string reachable from `root` contains one of `needles`. */
function mentions(root: unknown, needles: readonly string[]): Set<string> {
  const found = new Set<string>();
  const seen = new Set<unknown>();
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0 && found.size < needles.length) {
    const item = stack.pop();
    if (item === undefined) break;
    const { value, depth } = item;
    if (typeof value === 'string') {
      for (const needle of needles) if (value.includes(needle)) found.add(needle);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 40) continue;
    seen.add(value);
    const children: unknown[] = isMapLike(value)
      ? [...value.values()]
      : Array.isArray(value)
        ? value
        : Object.values(value);
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return found;
}

/** Loads `$currentUser` / `$currentSession` when the model's microflows use them. */
export class CurrentUserLoader {
  readonly usesCurrentUser: boolean;
  readonly usesCurrentSession: boolean;

  constructor(model: CompiledModel) {
    const sources = [...model.microflows.values()].map((m) => m.nodes);
    const found = mentions(sources, ['$currentUser', '$currentSession']);
    this.usesCurrentUser = found.has('$currentUser');
    this.usesCurrentSession = found.has('$currentSession');
  }

  /** The engine's view of the user, with the objects loaded (with system rights) when needed. */
  async load(uow: UnitOfWork, user: RunUser): Promise<MicroflowUser> {
    const system = uow.asSystem() as RunplaneUnitOfWork;
    let currentUser = null;
    let currentSession = null;
    if (this.usesCurrentUser && user.userId !== undefined) {
      [currentUser = null] = await system.retrieveByIds([user.userId], 'System.User');
    }
    if (this.usesCurrentSession && user.sessionIdHash !== '') {
      const { objects } = await system.retrieve({
        entity: 'System.Session',
        xpath: '[SessionId = $hash]',
        variables: new Map([['hash', user.sessionIdHash]]),
        amount: 1,
      });
      currentSession = objects[0] ?? null;
    }
    return {
      userName: user.userName,
      currentUser,
      currentSession,
      ...(user.language === '' ? {} : { locale: user.language }),
    };
  }
}
