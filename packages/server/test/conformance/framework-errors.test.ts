/**
 * Conformance: errors that the HTTP framework, Node's HTTP parser or the WebSocket library
 * produce before any of Parley's own code runs still leave in the documented shape
 * (`{error:{code,message}}` with the code's status) or with a documented close code. Every case
 * is written as raw bytes, so nothing between the test and the server tidies it up.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { CloseCode, errorStatus, isErrorCode, type ErrorCode } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, type Client } from '../harness.js';
import { startTarget, type Target } from './target.js';

let t: Target;
let alice: Client;
let host: string;
let port: number;
/** Where sockets go: the gateway discovery announces (on a fleet, not the API node). */
let wsHost: string;
let wsPort: number;

beforeAll(async () => {
  t = await startTarget();
  alice = await newUser(t, 'alice');
  const url = new URL(t.baseUrl);
  host = url.hostname;
  port = Number(url.port || 80);
  const ws = new URL(t.wsUrl);
  wsHost = ws.hostname;
  wsPort = Number(ws.port || 80);
});
afterAll(() => t.close());

/** Writes `bytes`, reads until the server closes (or `until` matches what arrived so far). */
function exchange(
  bytes: (string | Buffer)[],
  until?: (received: Buffer) => boolean,
  at: { host: string; port: number } = { host, port },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(at.port, at.host);
    const chunks: Buffer[] = [];
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (until?.(Buffer.concat(chunks))) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', reject);
    socket.on('connect', () => {
      for (const part of bytes) socket.write(part);
    });
  });
}

/** `exchange` with the gateway that serves /v1/ws. */
function exchangeWs(bytes: (string | Buffer)[], until?: (received: Buffer) => boolean): Promise<Buffer> {
  return exchange(bytes, until, { host: wsHost, port: wsPort });
}

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

function parseResponse(raw: Buffer): RawResponse {
  const text = raw.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head, body: split === -1 ? '' : text.slice(split + 4) };
}

/** The one documented shape, with the status that goes with the code, and exactly that code. */
function expectError(response: RawResponse, code: ErrorCode): void {
  const body = JSON.parse(response.body) as unknown;
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  const actual = (body as { error: { code: string } }).error.code;
  expect(isErrorCode(actual)).toBe(true);
  expect(response.status).toBe(errorStatus[code]);
  expect(response.headers.toLowerCase()).toContain('content-type: application/json');
}

async function request(lines: string[], body = ''): Promise<RawResponse> {
  return parseResponse(await exchange([`${lines.join('\r\n')}\r\n\r\n${body}`]));
}

describe('HTTP errors the framework raises', () => {
  it('a malformed percent-encoding in the path is invalid_request', async () => {
    expectError(
      await request([
        'GET /v1/channels/%ZZ HTTP/1.1',
        'Host: x',
        `Authorization: Bearer ${alice.token}`,
        'Connection: close',
      ]),
      'invalid_request',
    );
  });

  it('a path parameter over the router limit is invalid_request', async () => {
    expectError(
      await request([`GET /v1/channels/${'1'.repeat(500)} HTTP/1.1`, 'Host: x', 'Connection: close']),
      'invalid_request',
    );
  });

  it('a URL over the header limit is payload_too_large', async () => {
    expectError(
      await request([`GET /v1/users?query=${'a'.repeat(20_000)} HTTP/1.1`, 'Host: x', 'Connection: close']),
      'payload_too_large',
    );
  });

  it('headers over the limit are payload_too_large', async () => {
    expectError(
      await request(['GET /v1/me HTTP/1.1', 'Host: x', `X-Padding: ${'a'.repeat(20_000)}`, 'Connection: close']),
      'payload_too_large',
    );
  });

  it('a request line that is not HTTP is invalid_request', async () => {
    expectError(parseResponse(await exchange(['HELLO THERE\r\n\r\n'])), 'invalid_request');
  });

  it('an unknown method is invalid_request', async () => {
    expectError(await request(['BREW /v1/me HTTP/1.1', 'Host: x', 'Connection: close']), 'invalid_request');
  });

  it('a Content-Length that is not a number is invalid_request', async () => {
    expectError(
      await request([
        'POST /v1/auth/login HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: twelve',
        'Connection: close',
      ]),
      'invalid_request',
    );
  });

  it('a body in another content type is invalid_request', async () => {
    expectError(
      await request(
        [
          'POST /v1/auth/login HTTP/1.1',
          'Host: x',
          'Content-Type: application/xml',
          'Content-Length: 7',
          'Connection: close',
        ],
        '<login>',
      ),
      'invalid_request',
    );
  });

  it('a body that is not JSON is invalid_request', async () => {
    expectError(
      await request(
        [
          'POST /v1/auth/login HTTP/1.1',
          'Host: x',
          'Content-Type: application/json',
          'Content-Length: 9',
          'Connection: close',
        ],
        '{"user":,',
      ),
      'invalid_request',
    );
  });

  it('a body announced over the limit is payload_too_large', async () => {
    expectError(
      await request(
        [
          'POST /v1/auth/login HTTP/1.1',
          'Host: x',
          'Content-Type: application/json',
          `Content-Length: ${4 * 1024 * 1024}`,
          'Connection: close',
        ],
        '{',
      ),
      'payload_too_large',
    );
  });

  it('an unknown route is not_found', async () => {
    expectError(await request(['DELETE /v1/nothing/here HTTP/1.1', 'Host: x', 'Connection: close']), 'not_found');
  });
});

const wsKey = () => randomBytes(16).toString('base64');

function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    Host: 'x',
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': wsKey(),
    ...headers,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

describe('WebSocket handshakes the server refuses', () => {
  it('a bad Sec-WebSocket-Key is invalid_request', async () => {
    expectError(
      parseResponse(await exchangeWs([upgradeRequest('/v1/ws', { 'Sec-WebSocket-Key': 'short' })])),
      'invalid_request',
    );
  });

  it('an unsupported WebSocket version is invalid_request', async () => {
    expectError(
      parseResponse(await exchangeWs([upgradeRequest('/v1/ws', { 'Sec-WebSocket-Version': '7' })])),
      'invalid_request',
    );
  });

  it('an upgrade on another path is not_found', async () => {
    expectError(parseResponse(await exchangeWs([upgradeRequest('/v1/other')])), 'not_found');
  });
});

/** A client frame (clients must mask) with the given first byte and payload. */
function clientFrame(firstByte: number, payload: Buffer, announcedLength = payload.length): Buffer {
  const mask = randomBytes(4);
  let header: Buffer;
  if (announcedLength < 126) header = Buffer.from([firstByte, 0x80 | announcedLength]);
  else if (announcedLength < 65_536) {
    header = Buffer.alloc(4);
    header[0] = firstByte;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(announcedLength, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = firstByte;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(announcedLength), 2);
  }
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

const FIN_TEXT = 0x81;
const FIN_RSV1_TEXT = 0xc1;

/** Opens a raw WebSocket, sends `frames` after the handshake, and returns the server's close code. */
async function closeCodeAfter(frames: Buffer[]): Promise<number | undefined> {
  const closeFrame = (received: Buffer) => {
    const start = received.indexOf('\r\n\r\n');
    if (start === -1) return undefined;
    // Server frames are unmasked; a close frame is 0x88, a length byte, then the code.
    let offset = start + 4;
    while (offset + 2 <= received.length) {
      const opcode = received[offset]! & 0x0f;
      const length = received[offset + 1]! & 0x7f;
      const headerLength = length === 126 ? 4 : length === 127 ? 10 : 2;
      const payloadLength =
        length === 126
          ? received.readUInt16BE(offset + 2)
          : length === 127
            ? Number(received.readBigUInt64BE(offset + 2))
            : length;
      if (offset + headerLength + payloadLength > received.length) return undefined;
      if (opcode === 0x8) return received.readUInt16BE(offset + headerLength);
      offset += headerLength + payloadLength;
    }
    return undefined;
  };
  const received = await exchangeWs([upgradeRequest('/v1/ws'), ...frames], (r) => closeFrame(r) !== undefined);
  expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return closeFrame(received);
}

describe('WebSocket frames the WebSocket library refuses', () => {
  const hello = () => clientFrame(FIN_TEXT, Buffer.from(JSON.stringify({ op: 'hello', token: alice.token })));

  it('a text frame that is not valid UTF-8 closes with 1007', async () => {
    expect(await closeCodeAfter([hello(), clientFrame(FIN_TEXT, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))])).toBe(
      CloseCode.InvalidPayload,
    );
  });

  it('a first frame that is not valid UTF-8 closes with 1007', async () => {
    expect(await closeCodeAfter([clientFrame(FIN_TEXT, Buffer.from([0xc3, 0x28]))])).toBe(CloseCode.InvalidPayload);
  });

  it('a frame with a reserved bit set closes with 1002', async () => {
    expect(await closeCodeAfter([hello(), clientFrame(FIN_RSV1_TEXT, Buffer.from('{"op":"ping"}'))])).toBe(
      CloseCode.ProtocolViolation,
    );
  });

  it('a frame announced over 1 MiB closes with 1009', async () => {
    expect(await closeCodeAfter([hello(), clientFrame(FIN_TEXT, Buffer.from('{'), 2 * 1024 * 1024)])).toBe(
      CloseCode.TooBig,
    );
  });
});
