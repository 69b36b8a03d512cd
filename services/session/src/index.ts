/** The session service: users and sessions. */
export {
  startSessionService,
  type RunningSessionService,
  type SessionServiceDependencies,
} from './session.service.js';
export { sessionHandlers, toUserContext } from './session.handlers.js';
