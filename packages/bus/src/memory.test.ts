import { describe, expect, it } from 'vitest';
import { describeBusConformance } from './conformance.js';
import { BusErrorCode, busNames, createMemoryBroker, encodeText } from './index.js';

const broker = createMemoryBroker();

describeBusConformance('in-process', {
  namespace: 'conformance',
  connect: (name, options) => Promise.resolve(broker.connect(name, options)),
  cleanup: () => broker.close(),
});

describe('the in-process broker', () => {
  it('keeps separate brokers apart', async () => {
    const [one, two] = [createMemoryBroker(), createMemoryBroker()];
    const subject = busNames().subjects.modelDeployed;
    await two.connect('listener').subscribe(subject, () => undefined);
    const err = await one
      .connect('client')
      .request(subject, encodeText('?'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: BusErrorCode.NoResponders });
    await Promise.all([one.close(), two.close()]);
  });

  it('closes every connection when the broker closes', async () => {
    const local = createMemoryBroker();
    const bus = local.connect('service');
    await local.close();
    expect(bus.status().state).toBe('closed');
    expect(() => local.connect('late')).toThrow(expect.objectContaining({ code: BusErrorCode.Closed }));
  });

  it('honours a smaller maximum payload', async () => {
    const local = createMemoryBroker({ maxPayloadBytes: 16 });
    const bus = local.connect('service');
    expect(() => {
      bus.publish('a.b', new Uint8Array(17));
    }).toThrow(expect.objectContaining({ code: BusErrorCode.PayloadTooLarge }));
    await local.close();
  });
});
