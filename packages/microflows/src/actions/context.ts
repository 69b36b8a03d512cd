/** The {@link ActionContext} a custom action runs with. */
import type { MxValue } from '@runplane/expressions';
import type { MxObject, RetrieveQuery, UnitOfWork } from '@runplane/persistence';
import { engineError, MicroflowErrorCode } from '../errors.js';
import { checkArguments } from '../runtime/arguments.js';
import { invokeMicroflow } from '../runtime/interpreter.js';
import type { Frame } from '../runtime/state.js';
import type { ActionContext, ActionLog } from './define.js';

const FULL_QUERY = /^\s*\/\/\s*([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/s;

/** A full XPath query (`//Module.Entity[constraint]...`) as a retrieve query. */
export function parseXPathQuery(query: string): RetrieveQuery {
  const match = FULL_QUERY.exec(query);
  if (match === null) {
    throw engineError(
      MicroflowErrorCode.ArgumentInvalid,
      `'${query}' is not an XPath query; write it as //Module.Entity[constraint].`,
      { details: { query } },
    );
  }
  const constraint = (match[2] ?? '').trim();
  return { entity: match[1] ?? '', ...(constraint === '' ? {} : { xpath: constraint }) };
}

function list(objects: MxObject | readonly MxObject[]): readonly MxObject[] {
  if (Array.isArray(objects)) return objects as readonly MxObject[];
  return [objects as MxObject];
}

/** The context of an action called from `frame`, working on `uow`. */
export function actionContext(frame: Frame, uow: UnitOfWork, action: string): ActionContext {
  const run = frame.run;
  const logger = run.engine.logger.child({ action });
  const log: ActionLog = {
    trace: (message, fields) => {
      logger.trace(fields ?? {}, message);
    },
    debug: (message, fields) => {
      logger.debug(fields ?? {}, message);
    },
    info: (message, fields) => {
      logger.info(fields ?? {}, message);
    },
    warn: (message, fields) => {
      logger.warn(fields ?? {}, message);
    },
    error: (message, fields) => {
      logger.error(fields ?? {}, message);
    },
  };
  return {
    user: {
      system: uow.user.system,
      userId: uow.user.userId,
      userName: run.user.userName,
      userRoles: uow.user.userRoles,
    },
    uow,
    async retrieve(query) {
      const result = await uow.retrieve(typeof query === 'string' ? parseXPathQuery(query) : query);
      return result.objects;
    },
    retrieveByIds: (ids) => uow.retrieveByIds(ids),
    retrieveByAssociation: (object, association) => uow.retrieveByAssociation(object, association),
    instantiate: (entity) => uow.instantiate(entity),
    commit: (objects, options) => uow.commit(list(objects), options),
    delete: (objects, options) => uow.delete(list(objects), options),
    rollback: (objects, options) => uow.rollback(list(objects), options),
    async callMicroflow(name, args = {}) {
      const microflow = run.engine.microflow(name);
      if (microflow === undefined) {
        throw engineError(MicroflowErrorCode.NotFound, `There is no microflow ${name}.`, {
          status: 'not_found',
          details: { microflow: name },
        });
      }
      const checked = checkArguments(
        run.engine.model,
        microflow.microflow,
        new Map<string, MxValue>(Object.entries(args)),
      );
      return invokeMicroflow(run, microflow, checked, frame);
    },
    log,
    asSystem: () => actionContext(frame, run.systemUow, action),
  };
}
