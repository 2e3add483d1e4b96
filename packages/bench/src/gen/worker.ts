/**
 * One generator process. Holds many WebSocket clients, sends pre-built frames on an
 * open-loop schedule (intended send times fixed in advance: latency is measured from the
 * intended time, so a slow server cannot slow the schedule and hide its latency), and
 * reads only the bytes it needs from incoming frames (op, seq, clientMsgId).
 *
 * clientMsgId = b<step>_<intendedUs>_<senderIdx>_<n>; intendedUs is on the shared
 * monotonic clock, so any process can compute send-to-receipt latency.
 */
import WebSocket from 'ws';
import { nowUs } from '../lib/clock.js';
import { encodeHistogram, newHistogram, type Histogram } from '../lib/hist.js';
import type {
  Command,
  ConnSpec,
  ConnStats,
  ConnectResult,
  ReconnectResult,
  RunResult,
  StepStats,
  WorkerReply,
} from './messages.js';

interface Conn {
  idx: number;
  token: string;
  ws?: WebSocket;
  ready: boolean;
  lastSeq: number;
  /** Log head announced by the last ready; resumed once lastSeq reaches it. */
  head: number;
  gaps: number;
  dups: number;
  received: number;
  acked: number;
  sent: number;
  closedByUs: boolean;
}

interface Step {
  sent: number;
  skipped: number;
  acked: number;
  errors: number;
  delivered: number;
  echoes: number;
  ackedInWindow: number;
  deliveredInWindow: number;
  /** End of the send window on the shared clock (Infinity until this process runs the step). */
  endUs: number;
  ackHist: Histogram;
  deliveryHist: Histogram;
}

let url = '';
let localAddress: string | undefined;
let heartbeatMs = 5000;
let sendBufferLimit = 8 * 1024 * 1024;
const conns = new Map<number, Conn>();
const steps = new Map<number, Step>();
let unexpectedCloses = 0;
let counter = 0;

function stepOf(n: number): Step {
  let s = steps.get(n);
  if (!s) {
    s = {
      sent: 0,
      skipped: 0,
      acked: 0,
      errors: 0,
      delivered: 0,
      echoes: 0,
      ackedInWindow: 0,
      deliveredInWindow: 0,
      endUs: Infinity,
      ackHist: newHistogram(),
      deliveryHist: newHistogram(),
    };
    steps.set(n, s);
  }
  return s;
}

// ---------------------------------------------------------------- frame parsing

const PREFIX = Buffer.from('{"op":"');
const SEQ = Buffer.from('"seq":');
const CMID = Buffer.from('"clientMsgId":"b');

/** Reads an unsigned decimal integer at `at`; returns [value, index after it]. */
function readInt(buf: Buffer, at: number): [number, number] {
  let v = 0;
  let i = at;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  return [v, i];
}

interface MsgTag {
  step: number;
  tUs: number;
  sender: number;
}

function readTag(buf: Buffer): MsgTag | undefined {
  const at = buf.indexOf(CMID);
  if (at < 0) return undefined;
  const [step, i1] = readInt(buf, at + CMID.length);
  const [tUs, i2] = readInt(buf, i1 + 1);
  const [sender] = readInt(buf, i2 + 1);
  return { step, tUs, sender };
}

function onEvent(c: Conn, buf: Buffer): void {
  const at = buf.indexOf(SEQ);
  if (at >= 0) {
    const [seq] = readInt(buf, at + SEQ.length);
    if (seq === c.lastSeq + 1) c.lastSeq = seq;
    else if (seq <= c.lastSeq) {
      c.dups++;
      return;
    } else {
      c.gaps += seq - c.lastSeq - 1;
      c.lastSeq = seq;
    }
  }
  const tag = readTag(buf);
  if (!tag) return;
  const s = stepOf(tag.step);
  if (tag.sender === c.idx) {
    s.echoes++;
    return;
  }
  c.received++;
  s.delivered++;
  const now = nowUs();
  if (now <= s.endUs) s.deliveredInWindow++;
  s.deliveryHist.recordValue(Math.max(1, now - tag.tUs));
}

function onAck(c: Conn, buf: Buffer): void {
  const tag = readTag(buf);
  if (!tag) return;
  const s = stepOf(tag.step);
  c.acked++;
  s.acked++;
  const now = nowUs();
  if (now <= s.endUs) s.ackedInWindow++;
  s.ackHist.recordValue(Math.max(1, now - tag.tUs));
}

function onError(c: Conn, f: { clientMsgId?: string; code?: string }): void {
  const m = /^b(\d+)_/.exec(f.clientMsgId ?? '');
  if (m) stepOf(Number(m[1])).errors++;
  else if (!c.ready) return;
  lastErrors.add(String(f.code));
}
const lastErrors = new Set<string>();

function onFrame(c: Conn, buf: Buffer, onReady: (f: { seq: number }) => void): void {
  if (buf.length > 8 && buf.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) === 0) {
    const a = buf[7];
    const b = buf[8];
    if (a === 0x65 && b === 0x76) return onEvent(c, buf); // event
    if (a === 0x61 && b === 0x63) return onAck(c, buf); // ack
    if (a === 0x70) return; // pong, presence
    if (a === 0x74) return; // typing
  }
  // Rare frames (ready, error) or a server that orders keys differently: parse fully.
  let f: Record<string, unknown>;
  try {
    f = JSON.parse(buf.toString()) as Record<string, unknown>;
  } catch {
    return;
  }
  if (f.op === 'event') onEvent(c, buf);
  else if (f.op === 'ack') onAck(c, buf);
  else if (f.op === 'ready') onReady(f as unknown as { seq: number });
  else if (f.op === 'error') onError(c, f as { clientMsgId?: string; code?: string });
}

// ---------------------------------------------------------------- connecting

function openConn(c: Conn, since: number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowUs();
    const ws = new WebSocket(url, {
      localAddress,
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
    });
    c.ws = ws;
    c.ready = false;
    c.closedByUs = false;
    let settled = false;
    ws.on('open', () => {
      ws.send(
        since === undefined
          ? `{"op":"hello","token":"${c.token}"}`
          : `{"op":"hello","token":"${c.token}","since":${since}}`,
      );
    });
    ws.on('message', (data: Buffer) => {
      onFrame(c, data, (f) => {
        c.ready = true;
        c.head = f.seq;
        if (since === undefined) c.lastSeq = f.seq;
        if (!settled) {
          settled = true;
          resolve(nowUs() - t0);
        }
      });
    });
    ws.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    ws.on('close', (code) => {
      if (c.ws === ws) c.ready = false;
      if (!settled) {
        settled = true;
        reject(new Error(`closed ${code} before ready`));
      } else if (!c.closedByUs) unexpectedCloses++;
    });
  });
}

async function connectMany(list: Conn[], concurrency: number, since: boolean): Promise<ConnectResult> {
  const hist = newHistogram();
  const errors = new Set<string>();
  let connected = 0;
  let failed = 0;
  const t0 = nowUs();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < list.length) {
      const c = list[next++]!;
      try {
        hist.recordValue(Math.max(1, await openConn(c, since ? c.lastSeq : undefined)));
        connected++;
      } catch (err) {
        failed++;
        if (errors.size < 5) errors.add(String((err as Error).message ?? err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  const result = {
    connected,
    failed,
    errors: [...errors],
    durationMs: (nowUs() - t0) / 1000,
    handshakeHist: encodeHistogram(hist),
  };
  hist.destroy();
  return result;
}

// ---------------------------------------------------------------- heartbeats

let pingCursor = 0;
setInterval(() => {
  if (conns.size === 0) return;
  const all = [...conns.values()];
  const n = Math.ceil((all.length * 250) / heartbeatMs);
  for (let k = 0; k < n; k++) {
    const c = all[pingCursor++ % all.length]!;
    if (c.ready && c.ws?.readyState === WebSocket.OPEN) c.ws.send('{"op":"ping"}');
  }
}, 250).unref();

// ---------------------------------------------------------------- open-loop sending

function makeText(len: number): string {
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ';
  return words.repeat(Math.ceil(len / words.length)).slice(0, len);
}

function run(cmd: Extract<Command, { cmd: 'run' }>): Promise<RunResult> {
  const text = makeText(cmd.textLen);
  const senders = cmd.senders
    .map((s) => ({
      conn: conns.get(s.idx),
      prefix: `{"op":"send","channelId":"${s.channelId}","text":"${text}","clientMsgId":"b${cmd.step}_`,
    }))
    .filter((s): s is { conn: Conn; prefix: string } => s.conn !== undefined);
  const step = stepOf(cmd.step);
  step.endUs = cmd.startUs + cmd.durationMs * 1000;
  const result: RunResult = { sent: 0, skipped: 0 };
  if (senders.length === 0 || cmd.rate <= 0) return Promise.resolve(result);
  const interval = 1e6 / cmd.rate;
  const endUs = cmd.startUs + cmd.durationMs * 1000;
  let i = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = nowUs();
      for (;;) {
        const t = Math.floor(cmd.startUs + i * interval);
        if (t > now || t >= endUs) break;
        const s = senders[i % senders.length]!;
        i++;
        const ws = s.conn.ws;
        if (!s.conn.ready || !ws || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > sendBufferLimit) {
          step.skipped++;
          result.skipped++;
          continue;
        }
        ws.send(`${s.prefix}${t}_${s.conn.idx}_${counter++}"}`);
        s.conn.sent++;
        step.sent++;
        result.sent++;
      }
      const nextT = cmd.startUs + i * interval;
      if (nextT >= endUs) return resolve(result);
      setTimeout(tick, Math.max(0, Math.floor((nextT - nowUs()) / 1000)));
    };
    setTimeout(tick, Math.max(0, Math.floor((cmd.startUs - nowUs()) / 1000)));
  });
}

// ---------------------------------------------------------------- command loop

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.cmd) {
    case 'init':
      url = cmd.url;
      localAddress = cmd.localAddress;
      heartbeatMs = cmd.heartbeatMs;
      sendBufferLimit = cmd.sendBufferLimit;
      return { pid: process.pid };
    case 'source':
      localAddress = cmd.localAddress;
      return { localAddress };
    case 'connect': {
      const list = cmd.conns.map((s: ConnSpec) => {
        const c: Conn = {
          idx: s.idx,
          token: s.token,
          ready: false,
          lastSeq: 0,
          head: 0,
          gaps: 0,
          dups: 0,
          received: 0,
          acked: 0,
          sent: 0,
          closedByUs: false,
        };
        conns.set(s.idx, c);
        return c;
      });
      return connectMany(list, cmd.concurrency, false);
    }
    case 'run':
      return run(cmd);
    case 'collect': {
      const s = stepOf(cmd.step);
      const out: StepStats = {
        sent: s.sent,
        skipped: s.skipped,
        acked: s.acked,
        errors: s.errors,
        delivered: s.delivered,
        echoes: s.echoes,
        ackedInWindow: s.ackedInWindow,
        deliveredInWindow: s.deliveredInWindow,
        ackHist: cmd.histograms ? encodeHistogram(s.ackHist) : '',
        deliveryHist: cmd.histograms ? encodeHistogram(s.deliveryHist) : '',
      };
      return { ...out, unexpectedCloses, errorCodes: [...lastErrors] };
    }
    case 'connStats':
      return [...conns.values()].map((c): ConnStats => ({
        idx: c.idx,
        lastSeq: c.lastSeq,
        gaps: c.gaps,
        dups: c.dups,
        received: c.received,
        acked: c.acked,
        sent: c.sent,
      }));
    case 'drop':
      for (const c of conns.values()) {
        c.closedByUs = true;
        c.ready = false;
        c.ws?.terminate();
      }
      return { dropped: conns.size };
    case 'reconnect': {
      const t0 = nowUs();
      const list = [...conns.values()];
      const before = new Map(list.map((c) => [c.idx, c.lastSeq]));
      const r = await connectMany(list, cmd.concurrency, true);
      // Wait until every device has caught up with the head its ready announced.
      const deadline = t0 + cmd.timeoutMs * 1000;
      while (nowUs() < deadline && list.some((c) => c.ready && c.lastSeq < c.head)) {
        await new Promise((res) => setTimeout(res, 5));
      }
      const resumed = list.filter((c) => c.ready && c.lastSeq >= c.head).length;
      let replayed = 0;
      for (const c of list) replayed += Math.max(0, c.head - (before.get(c.idx) ?? 0));
      const out: ReconnectResult = { ...r, resumedMs: (nowUs() - t0) / 1000, resumed, replayed };
      return out;
    }
    case 'closeAll':
      for (const c of conns.values()) {
        c.closedByUs = true;
        c.ws?.close();
      }
      return { closed: conns.size };
  }
}

process.on('message', (m: { id: number; command: Command }) => {
  handle(m.command).then(
    (result) => process.send?.({ id: m.id, ok: true, result } satisfies WorkerReply),
    (err: unknown) => process.send?.({ id: m.id, ok: false, error: String(err) } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
