/** Connection against fake sockets and fake timers: attempts, ready, heartbeats, close codes. */
import { ChatError } from '@parley/protocol';
import type { GatewayInfo, ReadyFrame, ServerFrame } from '@parley/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from './connection.js';
import type { ConnectionHandler, ConnectionState } from './connection.js';
import type { WebSocketLike } from './transport.js';

class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: unknown[] = [];
  closedWith: number | undefined;
  terminated = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const readyFrame = (seq = 0): ReadyFrame => ({
  op: 'ready',
  userId: 'u1',
  deviceId: 'd1',
  seq,
  heartbeatMs: 1000,
  nodeId: 'n1',
});

function setup(discover: () => Promise<GatewayInfo> = async () => ({ url: 'ws://fake', nodeId: 'n1' })) {
  const sockets: FakeSocket[] = [];
  const calls: string[] = [];
  const states: ConnectionState[] = [];
  const network = new EventTarget();
  const handler: ConnectionHandler = {
    hello: () => ({ op: 'hello', token: 't' }),
    ready: (frame) => calls.push(`ready ${frame.seq} while ${connection.state.value}`),
    online: (frame) => calls.push(`online ${frame.seq} while ${connection.state.value}`),
    frame: (frame, ready) => calls.push(`frame ${frame.op} ready=${ready}`),
    lost: () => calls.push('lost'),
    stopped: (error) => calls.push(`stopped ${error.code}`),
  };
  // The handler's closures run only after construction, when `connection` is set.
  const connection: Connection = new Connection(
    {
      discover,
      webSocket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
      backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
      network,
    },
    handler,
  );
  connection.state.subscribe((s) => states.push(s));
  const last = () => sockets.at(-1)!;
  return { connection, sockets, calls, states, network, last };
}

const tick = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Connection', () => {
  it("says the handler's hello on open, and reports ready before online and online after it", async () => {
    const { connection, last, calls, states } = setup();
    const started = connection.start();
    await tick();
    last().open();
    expect(last().sent).toEqual([{ op: 'hello', token: 't' }]);
    expect(connection.ready).toBe(false);
    last().push(readyFrame(5));
    await expect(started).resolves.toBeUndefined();
    expect(calls).toEqual(['ready 5 while connecting', 'online 5 while online']);
    expect(states).toEqual(['offline', 'connecting', 'online']);
    expect(connection.ready).toBe(true);
  });

  it('sends only on a ready socket', async () => {
    const { connection, last } = setup();
    void connection.start();
    await tick();
    last().open();
    expect(connection.send({ op: 'ping' })).toBe(false);
    last().push(readyFrame());
    expect(connection.send({ op: 'typing', channelId: 'c' })).toBe(true);
    expect(last().sent.at(-1)).toEqual({ op: 'typing', channelId: 'c' });
  });

  it("hands other frames to the handler with the attempt's readiness, and ignores a replaced attempt", async () => {
    const { connection, last, sockets, calls } = setup();
    void connection.start();
    await tick();
    const first = last();
    first.open();
    first.push({ op: 'error', code: 'unavailable', message: 'x' });
    first.push(readyFrame());
    first.push({ op: 'pong', seq: 0 });
    connection.reconnect();
    await tick();
    expect(sockets).toHaveLength(2);
    first.onmessage?.({ data: JSON.stringify({ op: 'pong', seq: 9 }) });
    expect(calls).toEqual([
      'frame error ready=false',
      'ready 0 while connecting',
      'online 0 while online',
      'frame pong ready=true',
      'lost',
    ]);
  });

  it('pings every heartbeat and drops a socket that answers nothing', async () => {
    const { connection, last, sockets, calls } = setup();
    void connection.start();
    await tick();
    last().open();
    last().push(readyFrame());
    await vi.advanceTimersByTimeAsync(1000);
    expect(last().sent.at(-1)).toEqual({ op: 'ping' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(sockets[0]!.terminated).toBe(true);
    expect(calls.at(-1)).toBe('lost');
    expect(connection.state.value).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets).toHaveLength(2);
  });

  it('stops on 4001 with unauthorized, and on a discovery answering unauthorized', async () => {
    const a = setup();
    const started = a.connection.start();
    await tick();
    a.last().open();
    a.last().serverClose(4001);
    await expect(started).rejects.toMatchObject({ code: 'unauthorized' });
    expect(a.calls).toEqual(['lost', 'stopped unauthorized']);
    expect(a.connection.running).toBe(false);

    const b = setup(async () => {
      throw new ChatError('unauthorized', 'revoked');
    });
    await expect(b.connection.start()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(b.calls).toEqual(['lost', 'stopped unauthorized']);
  });

  it('retries a failing discovery with growing delays until it answers', async () => {
    let failures = 3;
    const discover = vi.fn(async () => {
      if (failures-- > 0) throw new ChatError('unavailable', 'down');
      return { url: 'ws://fake', nodeId: 'n1' };
    });
    const { connection, sockets } = setup(discover);
    void connection.start();
    // Tries at 0, 100, 300 (fail) and 700 ms.
    await vi.advanceTimersByTimeAsync(699);
    expect(discover).toHaveBeenCalledTimes(3);
    expect(sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(1);
  });

  it('waits at least a second after 4100, and tries at once when the network comes back', async () => {
    const { connection, last, sockets, network } = setup();
    void connection.start();
    await tick();
    last().open();
    last().serverClose(4100);
    await vi.advanceTimersByTimeAsync(500);
    expect(sockets).toHaveLength(1);
    network.dispatchEvent(new Event('online'));
    await tick();
    expect(sockets).toHaveLength(2);
  });

  it('closes with 1000 and stays offline after close()', async () => {
    const { connection, last, sockets } = setup();
    void connection.start();
    await tick();
    last().open();
    last().push(readyFrame());
    connection.close();
    expect(last().closedWith).toBe(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
    expect(connection.state.value).toBe('offline');
  });
});
