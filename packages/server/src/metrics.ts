/**
 * A few Prometheus metrics, written by hand: counters and one latency histogram are all the
 * server needs, and the text format is simple enough not to warrant a client library.
 */
import type { PushProviderKind } from '@parley/protocol';
import type { PushMetrics, SuppressReason } from './domain/push.js';

const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  sum = 0;
  count = 0;
  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
  }
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      cumulative += this.counts[i]!;
      lines.push(`${name}_bucket{le="${le / 1000}"} ${cumulative}`);
    });
    lines.push(
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum / 1000}`,
      `${name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

/** Push notification counters (domain/push.ts), by provider or suppression reason. */
export class PushCounters implements PushMetrics {
  readonly #counts = new Map<string, number>();
  #add(key: string, n = 1): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + n);
  }
  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
  sent(provider: PushProviderKind): void {
    this.#add(`parley_push_sent_total{provider="${provider}"}`);
  }
  coalesced(n: number): void {
    if (n > 0) this.#add('parley_push_coalesced_total', n);
  }
  suppressed(reason: SuppressReason, n: number): void {
    if (n > 0) this.#add(`parley_push_suppressed_total{reason="${reason}"}`, n);
  }
  retried(provider: PushProviderKind): void {
    this.#add(`parley_push_retried_total{provider="${provider}"}`);
  }
  failed(provider: PushProviderKind): void {
    this.#add(`parley_push_failed_total{provider="${provider}"}`);
  }
  gone(provider: PushProviderKind): void {
    this.#add(`parley_push_gone_total{provider="${provider}"}`);
  }
  render(): string {
    const help: Record<string, string> = {
      parley_push_sent_total: 'Notifications a push service accepted, per provider.',
      parley_push_coalesced_total: 'Messages folded into another message’s notification.',
      parley_push_suppressed_total: 'Messages not pushed: read elsewhere, muted, or the user online.',
      parley_push_retried_total: 'Notifications retried after a 429, 5xx or timeout, per provider.',
      parley_push_failed_total: 'Notifications given up (refused, or out of retries), per provider.',
      parley_push_gone_total: 'Registrations the push service reported gone (deleted), per provider.',
    };
    return Object.entries(help)
      .map(([name, text]) => {
        const lines = [`# HELP ${name} ${text}`, `# TYPE ${name} counter`];
        for (const [key, value] of this.#counts) if (key.split('{')[0] === name) lines.push(`${key} ${value}`);
        return lines.join('\n');
      })
      .join('\n');
  }
}

export class Metrics {
  readonly push = new PushCounters();
  messagesStored = 0;
  commitBatches = 0;
  /** Bus payloads a gateway could not decode (and dropped). */
  busPayloadsDropped = 0;
  readonly commitLatency = new Histogram();
  readonly fanoutLatency = new Histogram();

  recordCommit(messages: number, ms: number): void {
    this.messagesStored += messages;
    this.commitBatches++;
    this.commitLatency.observe(ms);
  }

  render(gauges: Record<string, number>): string {
    const parts = Object.entries(gauges).map(([name, value]) => `# TYPE ${name} gauge\n${name} ${value}`);
    parts.push(
      `# HELP parley_messages_stored_total Messages durably committed.\n# TYPE parley_messages_stored_total counter\nparley_messages_stored_total ${this.messagesStored}`,
      `# HELP parley_commit_batches_total Group commits.\n# TYPE parley_commit_batches_total counter\nparley_commit_batches_total ${this.commitBatches}`,
      `# HELP parley_bus_payloads_dropped_total Bus payloads dropped because they did not decode.\n# TYPE parley_bus_payloads_dropped_total counter\nparley_bus_payloads_dropped_total ${this.busPayloadsDropped}`,
      this.push.render(),
      this.commitLatency.render('parley_commit_seconds', 'Time to durably commit one batch of messages.'),
      this.fanoutLatency.render('parley_fanout_seconds', 'Time from commit to handing events to the bus.'),
      `# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ${process.memoryUsage.rss()}`,
    );
    return parts.join('\n') + '\n';
  }
}
