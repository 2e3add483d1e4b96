import { describe, expect, it } from 'vitest';
import type { LatencySummary } from '../lib/hist.js';
import { combineConnectRounds, connectionsSummary, type ConnectRound, type FirstRoundFigures } from './connections.js';
import { combineReconnectRounds, reconnectSummary, type ReconnectRound } from './reconnect.js';

const hs: LatencySummary = { count: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 };

function connectRound(place: number, connectsPerS: number, over: Partial<ConnectRound> = {}): ConnectRound {
  return {
    place,
    connected: 10_000,
    failed: 0,
    errors: [],
    connectSeconds: Math.round((10_000 / connectsPerS) * 1000) / 1000,
    connectsPerS,
    handshake: hs,
    ...over,
  };
}

const first: FirstRoundFigures = {
  rssBeforeMiB: 60,
  rssAfterMiB: 170,
  bytesPerConnection: 11 * 1024,
  idleServerCpu: 0.06,
  idleGeneratorCpu: 0.02,
};

describe('combineConnectRounds', () => {
  it('takes the median connect rate, so one slow round of the machine does not decide it', () => {
    const run = combineConnectRounds(
      10_000,
      [connectRound(1, 4131), connectRound(2, 730), connectRound(1, 3000)],
      hs,
      first,
    );
    expect(run.connectsPerS).toBe(3000);
    expect(run.connectSeconds).toBe(3.333);
    expect(run.rounds.map((r) => r.connectsPerS)).toEqual([4131, 730, 3000]);
  });

  it('keeps the first round’s memory and idle CPU, the worst round’s count and every failure', () => {
    const run = combineConnectRounds(
      10_000,
      [
        connectRound(1, 900, { connected: 9_998, failed: 2, errors: ['closed 1013 before ready'] }),
        connectRound(2, 1000, { connected: 9_999, failed: 1, errors: ['closed 1013 before ready'] }),
      ],
      hs,
      first,
    );
    expect(run).toMatchObject({ ...first, requested: 10_000, connected: 9_998, failed: 3, connectsPerS: 950 });
    expect(run.errors).toEqual(['closed 1013 before ready']);
  });
});

describe('connectionsSummary', () => {
  const cfg = { connections: 10_000, heartbeatMs: 5000, rounds: 3 };

  it('sets the connect-rate ratio of the medians against its target', () => {
    const floor = combineConnectRounds(
      10_000,
      [connectRound(1, 4000), connectRound(2, 800), connectRound(1, 3000)],
      hs,
      {
        ...first,
        bytesPerConnection: 7 * 1024,
      },
    );
    const parley = combineConnectRounds(
      10_000,
      [connectRound(2, 2000), connectRound(1, 900), connectRound(2, 1900)],
      hs,
      first,
    );
    const [memory, rate] = connectionsSummary({ floor, parley }, cfg);
    expect(rate).toMatchObject({ parley: 1900, baseline: 3000, ratio: 0.633, target: '>= 0.6', met: true });
    expect(memory).toMatchObject({ parley: 11, baseline: 7, target: '<= 2', met: true });
  });

  it('misses the connect-rate target below 0.6 and leaves it open without the floor', () => {
    const slow = combineConnectRounds(10_000, [connectRound(1, 500)], hs, first);
    const fast = combineConnectRounds(10_000, [connectRound(1, 1000)], hs, first);
    expect(connectionsSummary({ floor: fast, parley: slow }, cfg)[1]).toMatchObject({ ratio: 0.5, met: false });
    expect(connectionsSummary({ parley: slow }, cfg)[1]).toMatchObject({ ratio: null, met: null });
  });

  it('reports the heap a connection holds beside the floor’s, without a target, and nothing when not read', () => {
    const floor = combineConnectRounds(10_000, [connectRound(1, 3000)], hs, first, 2.8 * 1024);
    const parley = combineConnectRounds(10_000, [connectRound(1, 2000)], hs, first, 4.2 * 1024);
    const heap = connectionsSummary({ floor, parley }, cfg)[3];
    expect(heap).toMatchObject({ unit: 'KiB', parley: 4.2, baseline: 2.8, baselineLabel: 'floor', ratio: 1.5 });
    expect(heap!.target).toBeUndefined();
    const unread = combineConnectRounds(10_000, [connectRound(1, 2000)], hs, first);
    expect(connectionsSummary({ floor, parley: unread }, cfg)[3]).toMatchObject({ parley: null, ratio: null });
  });

  it('compares this build with a baseline build, when one ran', () => {
    const parley = combineConnectRounds(10_000, [connectRound(1, 2000)], hs, first, 4.1 * 1024);
    const baseline = combineConnectRounds(
      10_000,
      [connectRound(1, 1600)],
      hs,
      { ...first, bytesPerConnection: 10 * 1024 },
      4.3 * 1024,
    );
    const [, , , , memory, heap, rate] = connectionsSummary({ parley, baseline }, cfg);
    expect(memory).toMatchObject({ parley: 11, baseline: 10, baselineLabel: 'baseline build', ratio: 1.1 });
    expect(heap).toMatchObject({ parley: 4.1, baseline: 4.3, baselineLabel: 'baseline build', ratio: 0.953 });
    expect(rate).toMatchObject({ parley: 2000, baseline: 1600, ratio: 1.25 });
  });
});

function reconnectRound(place: number, resumeMs: number, over: Partial<ReconnectRound> = {}): ReconnectRound {
  return {
    place,
    reconnected: 10_000,
    failed: 0,
    errors: [],
    resumeMs,
    serverCpuUsPerDevice: resumeMs / 20,
    generatorCpuUsPerDevice: resumeMs / 40,
    resumed: 10_000,
    replayed: 2_000,
    handshake: hs,
    sent: 30_000,
    acked: 29_000,
    skippedWhileDown: 1_000,
    seqGaps: 0,
    seqDups: 0,
    lost: 0,
    ...over,
  };
}

describe('combineReconnectRounds', () => {
  it('takes the median resume time and sums losses, gaps and dups over every round', () => {
    const run = combineReconnectRounds(
      10_000,
      [
        reconnectRound(1, 9_000, { lost: 2 }),
        reconnectRound(2, 30_000, { seqGaps: 1, resumed: 9_990 }),
        reconnectRound(1, 10_000, { seqDups: 3, reconnected: 9_995, failed: 5 }),
      ],
      hs,
    );
    expect(run).toMatchObject({
      devices: 10_000,
      resumeMs: 10_000,
      lost: 2,
      seqGaps: 1,
      seqDups: 3,
      failed: 5,
      reconnected: 9_995,
      resumed: 9_990,
      sent: 90_000,
      replayed: 6_000,
    });
    expect(run.rounds.map((r) => r.resumeMs)).toEqual([9_000, 30_000, 10_000]);
    expect(run.serverCpuUsPerDevice).toBe(500);
    expect(run.generatorCpuUsPerDevice).toBe(250);
  });
});

describe('reconnectSummary', () => {
  const cfg = { devices: 10_000, rounds: 3 };
  const floor = combineReconnectRounds(
    10_000,
    [reconnectRound(1, 9_000), reconnectRound(2, 20_000), reconnectRound(1, 10_000)],
    hs,
  );

  it('sets the ratio of the median resume times against its target', () => {
    const parley = combineReconnectRounds(
      10_000,
      [reconnectRound(2, 11_000), reconnectRound(1, 12_000), reconnectRound(2, 40_000)],
      hs,
    );
    const [time, cpu, lost] = reconnectSummary({ floor, parley }, cfg);
    expect(time).toMatchObject({ parley: 12_000, baseline: 10_000, ratio: 1.2, target: '<= 1.2', met: true });
    expect(cpu).toMatchObject({ parley: 600, baseline: 500, ratio: 1.2 });
    expect(cpu!.target).toBeUndefined();
    expect(lost).toMatchObject({ parley: 0, target: '= 0', met: true });
  });

  it('misses the loss target when any round lost, skipped or repeated a seq', () => {
    for (const over of [{ lost: 1 }, { seqGaps: 1 }, { seqDups: 1 }]) {
      const parley = combineReconnectRounds(10_000, [reconnectRound(1, 9_000), reconnectRound(2, 9_000, over)], hs);
      expect(reconnectSummary({ floor, parley }, cfg)[2]!.met).toBe(false);
    }
  });

  it('compares this build with a baseline build, when one ran, without a target', () => {
    const parley = combineReconnectRounds(10_000, [reconnectRound(1, 9_000), reconnectRound(2, 9_000)], hs);
    const baseline = combineReconnectRounds(10_000, [reconnectRound(2, 10_000), reconnectRound(1, 10_000)], hs);
    expect(reconnectSummary({ floor, parley }, cfg)).toHaveLength(3);
    const [, , , time, cpu] = reconnectSummary({ floor, parley, baseline }, cfg);
    expect(time).toMatchObject({ parley: 9_000, baseline: 10_000, baselineLabel: 'baseline build', ratio: 0.9 });
    expect(cpu).toMatchObject({ parley: 450, baseline: 500, ratio: 0.9 });
    expect(time!.target).toBeUndefined();
  });
});
