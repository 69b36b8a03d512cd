/** The gateway service: the HTTP edge of Runplane. */
export { startGateway, type GatewayDependencies, type RunningGateway } from './gateway.service.js';
export { Readiness, type ReadinessReport, type ReadinessTarget } from './readiness.js';
export {
  SessionLayer,
  sessionIdHash,
  type OpenedSession,
  type SessionLayerSettings,
} from './session/session-layer.js';
export { ValidationCache, type ValidatedSession } from './session/validation-cache.js';
export { SESSION_COOKIE } from './session/cookies.js';
export { SessionPolicy, defineAction, type XasAction, type XasContext } from './xas/action.js';
export { XAS_SCHEMA_PATH, XasRegistry } from './xas/registry.js';
