import {
  Server,
  ServerCredentials,
  credentials,
  status,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorStatus, UserError } from '@runplane/errors';
import { common, executor } from '@runplane/proto';
import { RetrieveStreams, type RetrieveOrigin } from './retrieve-stream.js';

type Duplex = ServerDuplexStream<executor.RetrieveCalls, executor.RetrieveAnswers>;

/** Runs `handle` for every call of every message the client sends on a stream. */
function eachCall(call: Duplex, handle: (message: executor.RetrieveCall) => void): void {
  call.on('data', (batch: executor.RetrieveCalls) => {
    for (const one of batch.calls) handle(one);
  });
}

/** Sends one answer in a message of its own. */
function answerWith(call: Duplex, answer: executor.RetrieveAnswer): void {
  call.write({ answers: [answer] });
}

/** A request that names itself, so that an answer can say which request it answers. */
function request(name: string): executor.RetrieveRequest {
  return { user: undefined, state: undefined, query: { $case: 'ids', value: { ids: [name], entity: '' } } };
}

function nameOf(req: executor.RetrieveRequest | undefined): string {
  return req?.query?.$case === 'ids' ? (req.query.value.ids[0] ?? '') : '';
}

/** The response that echoes a request's name. */
function echo(req: executor.RetrieveRequest | undefined): executor.RetrieveResponse {
  return {
    objects: [
      {
        id: nameOf(req),
        entity: 'Echo',
        members: {},
        state: common.ObjectState.OBJECT_STATE_COMMITTED,
        readOnlyMembers: [],
      },
    ],
    count: undefined,
  };
}

function origin(withinMs = 10_000): RetrieveOrigin {
  return { requestId: 'test', deadlineAtMs: Date.now() + withinMs };
}

/** A scripted executor: RetrieveStream (unless left out) and the unary Retrieve, on an ephemeral port. */
async function scriptedExecutor(
  onStream: ((call: Duplex, index: number) => void) | undefined,
): Promise<{ address: string; streams: Duplex[]; unaryCalls: string[]; stop(): void }> {
  const server = new Server();
  const streams: Duplex[] = [];
  const unaryCalls: string[] = [];
  const implementation: UntypedServiceImplementation = {
    retrieve: (
      call: ServerUnaryCall<executor.RetrieveRequest, executor.RetrieveResponse>,
      done: sendUnaryData<executor.RetrieveResponse>,
    ) => {
      unaryCalls.push(nameOf(call.request));
      done(null, echo(call.request));
    },
  };
  if (onStream !== undefined) {
    implementation.retrieveStream = (call: Duplex) => {
      streams.push(call);
      onStream(call, streams.length - 1);
    };
  }
  server.addService(executor.ExecutorServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  return {
    address: `127.0.0.1:${port}`,
    streams,
    unaryCalls,
    stop: () => {
      server.forceShutdown();
    },
  };
}

describe('retrieves over RetrieveStream lanes', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  async function setUp(
    onStream: ((call: Duplex, index: number) => void) | undefined,
    options = { lanes: 1, laneMaxAgeMs: 60_000 },
  ): Promise<{ lanes: RetrieveStreams; server: Awaited<ReturnType<typeof scriptedExecutor>> }> {
    const server = await scriptedExecutor(onStream);
    const client = new executor.ExecutorServiceClient(server.address, credentials.createInsecure());
    const lanes = new RetrieveStreams(
      {
        open: () => client.retrieveStream(),
        unary: (req) =>
          new Promise((resolve, reject) => {
            client.retrieve(req, (error, response) => {
              if (error === null) resolve(response);
              else reject(error);
            });
          }),
      },
      options,
    );
    cleanups.push(() => {
      lanes.close();
      client.close();
      server.stop();
    });
    return { lanes, server };
  }

  it('answers every call of many in flight with its own answer, whatever order the answers come in', async () => {
    const { lanes } = await setUp((call) => {
      const received: executor.RetrieveCall[] = [];
      eachCall(call, (message: executor.RetrieveCall) => {
        received.push(message);
        if (received.length < 5) return;
        for (const m of received.reverse()) {
          answerWith(call, { callId: m.callId, outcome: { $case: 'response', value: echo(m.request) } });
        }
      });
    });
    const names = ['a', 'b', 'c', 'd', 'e'];
    const answers = await Promise.all(names.map((n) => lanes.retrieve(request(n), origin())));
    expect(answers.map((a) => a.objects[0]?.id)).toEqual(names);
  });

  it('sends the calls of one turn in one message, and reads answers that come together', async () => {
    const messages: number[] = [];
    const { lanes } = await setUp(
      (call) => {
        call.on('data', (batch: executor.RetrieveCalls) => {
          messages.push(batch.calls.length);
          call.write({
            answers: batch.calls.map((m) => ({
              callId: m.callId,
              outcome: { $case: 'response', value: echo(m.request) },
            })),
          });
        });
      },
      { lanes: 2, laneMaxAgeMs: 60_000 },
    );
    const names = ['a', 'b', 'c', 'd'];
    const answers = await Promise.all(names.map((n) => lanes.retrieve(request(n), origin())));
    expect(answers.map((a) => a.objects[0]?.id)).toEqual(names);
    await lanes.retrieve(request('later'), origin());
    expect(messages).toEqual([4, 1]);
  });

  it('fails with the error the executor raised, as it raised it', async () => {
    const { lanes } = await setUp((call) => {
      eachCall(call, (message: executor.RetrieveCall) => {
        const error = new UserError({
          code: 'MEMBER_NOT_READABLE',
          status: ErrorStatus.PermissionDenied,
          message: 'You may not read Secret of Lab.Sample.',
          details: { entity: 'Lab.Sample', member: 'Secret' },
        });
        answerWith(call, {
          callId: message.callId,
          outcome: { $case: 'error', value: JSON.stringify(error.toJSON()) },
        });
      });
    });
    await expect(lanes.retrieve(request('x'), origin())).rejects.toMatchObject({
      code: 'MEMBER_NOT_READABLE',
      status: ErrorStatus.PermissionDenied,
      details: { entity: 'Lab.Sample', member: 'Secret' },
    });
  });

  it('fails a call the executor does not answer in time with DEPENDENCY_TIMEOUT, and goes on serving others', async () => {
    const { lanes } = await setUp((call) => {
      eachCall(call, (message: executor.RetrieveCall) => {
        if (nameOf(message.request) === 'slow') return;
        answerWith(call, {
          callId: message.callId,
          outcome: { $case: 'response', value: echo(message.request) },
        });
      });
    });
    await expect(lanes.retrieve(request('slow'), origin(50))).rejects.toMatchObject({
      code: 'DEPENDENCY_TIMEOUT',
      status: ErrorStatus.Timeout,
    });
    await expect(lanes.retrieve(request('quick'), origin())).resolves.toEqual(echo(request('quick')));
    await expect(lanes.retrieve(request('late'), origin(-1))).rejects.toMatchObject({
      code: 'DEPENDENCY_TIMEOUT',
    });
  });

  it('sends a call once more on a fresh stream when its stream ends before answering it', async () => {
    const { lanes, server } = await setUp((call, index) => {
      eachCall(call, (message: executor.RetrieveCall) => {
        if (index === 0) call.end();
        else
          answerWith(call, {
            callId: message.callId,
            outcome: { $case: 'response', value: echo(message.request) },
          });
      });
    });
    await expect(lanes.retrieve(request('again'), origin())).resolves.toEqual(echo(request('again')));
    expect(server.streams).toHaveLength(2);
  });

  it('fails a call whose second stream breaks too, as the executor being unavailable', async () => {
    const { lanes, server } = await setUp((call) => {
      eachCall(call, () => {
        call.emit('error', { code: status.UNAVAILABLE, details: 'going away' });
      });
    });
    await expect(lanes.retrieve(request('doomed'), origin())).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
    expect(server.streams).toHaveLength(2);
  });

  it('uses unary calls from then on when the executor does not know RetrieveStream', async () => {
    const { lanes, server } = await setUp(undefined);
    await expect(lanes.retrieve(request('one'), origin())).resolves.toEqual(echo(request('one')));
    await expect(lanes.retrieve(request('two'), origin())).resolves.toEqual(echo(request('two')));
    expect(server.unaryCalls).toEqual(['one', 'two']);
  });

  it('spreads calls over its lanes, and replaces a lane once it is older than its maximum age', async () => {
    const answer = (call: Duplex): void => {
      eachCall(call, (message: executor.RetrieveCall) => {
        answerWith(call, {
          callId: message.callId,
          outcome: { $case: 'response', value: echo(message.request) },
        });
      });
      call.on('end', () => call.end());
    };
    const spread = await setUp(answer, { lanes: 3, laneMaxAgeMs: 60_000 });
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) await spread.lanes.retrieve(request(n), origin());
    expect(spread.server.streams).toHaveLength(3);
    const young = await setUp(answer, { lanes: 1, laneMaxAgeMs: -1 });
    for (const n of ['a', 'b', 'c']) await young.lanes.retrieve(request(n), origin());
    expect(young.server.streams).toHaveLength(3);
  });
});
