/**
 * Write coalescing on a real socket: frames made over several turns wait in the socket while it
 * is held, leave when released, and never wait longer than the bound.
 */
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { holdWrites } from './cork.js';

let server: WebSocketServer;
let serverSide: WebSocket;
let client: WebSocket;
const received: string[] = [];

beforeEach(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on('message', (data) => received.push(String(data)));
  await new Promise((resolve) => client.once('open', resolve));
  serverSide = await accepted;
});

afterEach(async () => {
  vi.useRealTimers();
  received.length = 0;
  client.terminate();
  await new Promise((resolve) => server.close(resolve));
});

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;
const arrived = (n: number) => vi.waitFor(() => expect(received).toHaveLength(n));

it('keeps the frames of several turns in the socket until released, then sends them in order', async () => {
  const release = holdWrites(serverSide, 60_000);
  serverSide.send('ready');
  await new Promise((resolve) => setImmediate(resolve));
  serverSide.send('presence');
  // Nothing was written: both frames are still in the socket's buffer.
  expect(socketOf(serverSide).writableLength).toBeGreaterThan(0);
  release();
  expect(socketOf(serverSide).writableCorked).toBe(0);
  await arrived(2);
  expect(received).toEqual(['ready', 'presence']);
  release(); // a second call changes nothing
  expect(socketOf(serverSide).writableCorked).toBe(0);
});

it('lets the frames go after the bound when nothing releases them', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  holdWrites(serverSide, 50);
  serverSide.send('ready');
  vi.advanceTimersByTime(49);
  expect(socketOf(serverSide).writableLength).toBeGreaterThan(0);
  vi.advanceTimersByTime(1);
  expect(socketOf(serverSide).writableCorked).toBe(0);
  await arrived(1);
  expect(received).toEqual(['ready']);
});
