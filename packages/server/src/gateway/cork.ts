/**
 * Coalesces the frames written to one socket during an event-loop turn into one write. A group
 * commit acks the sender and hands every member its event in the same turn; without this each
 * frame is its own writev syscall, the largest single cost of delivery in the dm profile.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { TurnBatch } from '../turn-batch.js';

const corked = new TurnBatch<Socket>((sockets) => {
  for (const socket of sockets) socket.uncork();
});

/** ws keeps its net.Socket in _socket; there is no public handle to it. */
function socketOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket;
}

/** Holds the socket's writes until the turn's I/O is done (setImmediate runs right after it). */
export function corkForThisTurn(ws: WebSocket): void {
  const socket = socketOf(ws);
  if (socket === undefined || socket.writableCorked > 0) return;
  socket.cork();
  corked.add(socket);
}

/**
 * Holds the socket's writes across turns until the returned function is called, or `maxMs` has
 * passed: the frames of a new session (ready, its replay, the presence snapshot), made over a few
 * turns as their reads come back, then leave in one write rather than one per turn. In a
 * reconnect storm those writes were the largest cost of a hello. `maxMs` bounds what a slow
 * step (presence while Redis is away) can hold back.
 */
export function holdWrites(ws: WebSocket, maxMs: number): () => void {
  const socket = socketOf(ws);
  if (socket === undefined) return () => undefined;
  socket.cork();
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    socket.uncork();
  };
  const timer = setTimeout(release, maxMs);
  return release;
}
