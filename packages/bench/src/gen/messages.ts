/** The IPC commands between the bench driver and its generator processes. */

export interface ConnSpec {
  /** Global connection index (unique across workers); embedded in clientMsgIds. */
  idx: number;
  token: string;
}

export interface SenderSpec {
  idx: number;
  channelId: string;
}

export interface StepStats {
  sent: number;
  /** Not sent because the socket was closed or its send buffer was over the limit. */
  skipped: number;
  acked: number;
  errors: number;
  /** Events delivered to devices other than the sending one. */
  delivered: number;
  /** Events delivered back to the sending device itself. */
  echoes: number;
  /** Acks and deliveries received before the step's send window ended (throughput, not backlog). */
  ackedInWindow: number;
  deliveredInWindow: number;
  ackHist: string;
  deliveryHist: string;
}

export interface ConnStats {
  idx: number;
  lastSeq: number;
  gaps: number;
  dups: number;
  /** message.created events received from other senders. */
  received: number;
  acked: number;
  sent: number;
}

export type Command =
  | { cmd: 'init'; workerId: number; url: string; localAddress?: string; heartbeatMs: number; sendBufferLimit: number }
  | { cmd: 'connect'; conns: ConnSpec[]; concurrency: number }
  /** The source address of the sockets opened from now on (undefined: the system's choice). */
  | { cmd: 'source'; localAddress?: string }
  | {
      cmd: 'run';
      step: number;
      startUs: number;
      durationMs: number;
      /** Messages per second for this worker. */
      rate: number;
      senders: SenderSpec[];
      textLen: number;
    }
  /** Step counters; histograms only when asked (encoding them takes a moment). */
  | { cmd: 'collect'; step: number; histograms: boolean }
  | { cmd: 'connStats' }
  | { cmd: 'drop' }
  | { cmd: 'reconnect'; concurrency: number; timeoutMs: number }
  | { cmd: 'closeAll' };

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: string[];
  durationMs: number;
  handshakeHist: string;
}

export interface RunResult {
  sent: number;
  skipped: number;
}

export interface ReconnectResult extends ConnectResult {
  /** From the command to the last device caught up with its log head (ms). */
  resumedMs: number;
  resumed: number;
  replayed: number;
}

export interface WorkerReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
