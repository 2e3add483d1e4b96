/**
 * Coalesces the frames written to one socket during an event-loop turn into one write. A group
 * commit acks the sender and hands every member its event in the same turn; without this each
 * frame is its own writev syscall, the largest single cost of delivery in the dm profile.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

const corked: Socket[] = [];

function uncorkAll(): void {
  for (const socket of corked.splice(0)) socket.uncork();
}

/** Holds the socket's writes until the turn's I/O is done (setImmediate runs right after it). */
export function corkForThisTurn(ws: WebSocket): void {
  // ws keeps its net.Socket in _socket; there is no public handle to it.
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (socket === undefined || socket.writableCorked > 0) return;
  socket.cork();
  if (corked.push(socket) === 1) setImmediate(uncorkAll);
}
