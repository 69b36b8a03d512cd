import { describe, expect, it } from 'vitest';
import { loadModelOrThrow } from '@runplane/model';
import { session } from '@runplane/proto';
import { createClient } from '@runplane/service-host';
import {
  DutyName,
  eventSchedules,
  parseEventSelection,
  sessionDuties,
  unknownSelected,
} from './schedules.js';
import { CLOCK_MODEL_DIR } from './testing/harness.js';

const model = await loadModelOrThrow(CLOCK_MODEL_DIR);

describe('which scheduled events run (RUNPLANE_SCHEDULED_EVENTS)', () => {
  const enabled = (setting: string): string[] =>
    eventSchedules(model, parseEventSelection(setting))
      .filter((e) => e.enabled)
      .map((e) => e.name);

  it('runs every event the model enables with all, in any case', () => {
    expect(enabled('all')).toEqual(['Clock.EveryFiveDelayed', 'Clock.EveryMinute', 'Clock.Nightly']);
    expect(enabled(' ALL ')).toEqual(enabled('all'));
  });

  it('runs none with none', () => {
    expect(enabled('none')).toEqual([]);
  });

  it('runs exactly the events listed, even one the model switches off, and names the unknown ones', () => {
    const selection = parseEventSelection('Clock.Off, Clock.Nightly ,Clock.Gone');
    expect(enabled('Clock.Off, Clock.Nightly ,Clock.Gone')).toEqual(['Clock.Nightly', 'Clock.Off']);
    expect(unknownSelected(model, selection)).toEqual(['Clock.Gone']);
    expect(unknownSelected(model, parseEventSelection('all'))).toEqual([]);
  });

  it('reads server time as the app’s default time zone, and keeps each event’s overlap policy', () => {
    const byName = new Map(eventSchedules(model, parseEventSelection('all')).map((e) => [e.name, e]));
    expect(byName.get('Clock.Nightly')?.timetable.description).toBe('daily at 02:30 (Europe/Amsterdam)');
    expect(byName.get('Clock.EveryMinute')?.timetable.description).toBe('every minute (UTC)');
    expect(byName.get('Clock.EveryFiveDelayed')?.overlap).toBe('delay');
    expect(byName.get('Clock.EveryMinute')).toMatchObject({
      overlap: 'skip',
      microflow: 'Clock.Tick',
      key: 'event.Clock.EveryMinute',
    });
  });
});

describe('the session duties', () => {
  it('run on their periods, each under a record key of its own', () => {
    const client = createClient(session.SessionServiceClient, '127.0.0.1:9');
    const duties = sessionDuties(client, { sessionCleanupMs: 300_000, unblockMs: 60_000 });
    expect(duties.map((d) => [d.name, d.key, d.timetable.description])).toEqual([
      [DutyName.SessionCleanup, 'duty.session-cleanup', 'every 5 minutes'],
      [DutyName.UnblockUsers, 'duty.unblock-users', 'every minute'],
    ]);
    client.close();
  });
});
