import { busNames, type Bus } from '@runplane/bus';
import { session } from '@runplane/proto';
import type { SessionEvent, SessionEventSink } from './events.js';

/**
 * A sink that publishes session events on the bus, one subject per kind under
 * `busNames(namespace).subjects.sessionEvent(kind)`, as `runplane.session.v1.SessionEvent`:
 * every gateway drops its cached validations of the sessions and users named. A publish
 * that fails goes to `onError`, never throws: the gateways' cache TTL still bounds staleness.
 */
export function publishSessionEvents(
  bus: Bus,
  namespace: string,
  onError: (error: unknown, event: SessionEvent) => void,
): SessionEventSink {
  const names = busNames(namespace);
  return (event) => {
    const payload = session.SessionEvent.encode({
      kind: event.kind,
      sessionIdHashes: [...event.sessionIdHashes],
      userIds: [...event.userIds],
      all: event.all,
      atMs: BigInt(event.atMs),
    }).finish();
    try {
      bus.publish(names.subjects.sessionEvent(event.kind), payload);
    } catch (err) {
      onError(err, event);
    }
  };
}
