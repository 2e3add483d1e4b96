/** Step results for unit tests of the figures read from them. */
import type { LatencySummary } from './hist.js';
import type { StepResult } from './steps.js';

const latency = (p99: number): LatencySummary => ({
  count: 1,
  p50: p99,
  p90: p99,
  p99,
  p999: p99,
  max: p99,
  mean: p99,
});

/** A 10 s step that acked and delivered all it was offered, with the given server CPU (fraction of a core). */
export function stepFixture(offered: number, serverCpu: number, sustained = true, p99 = 5): StepResult {
  return {
    offered,
    durationS: 10,
    sent: offered * 10,
    skipped: 0,
    acked: offered * 10,
    errors: 0,
    unacked: 0,
    delivered: offered * 10,
    expectedDeliveries: offered * 10,
    lost: 0,
    ackedPerS: offered,
    deliveredPerS: offered,
    ack: latency(p99),
    delivery: latency(p99),
    serverCpu,
    generatorCpu: 0.1,
    generatorCpuMax: 0.05,
    serverRssMiB: 100,
    sustained,
    errorCodes: [],
    unexpectedCloses: 0,
  };
}
