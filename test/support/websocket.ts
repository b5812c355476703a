/**
 * Test helper (never a test itself): the server side of a websocket (RFC 6455) on a node:http
 * `upgrade`, enough for the Kubernetes attach API's channel protocol: the handshake with a chosen
 * subprotocol, the client's masked binary frames (one message per frame, as the `ws` client sends
 * them), and the close handshake. No dependency: the `ws` package has no types installed here.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WebSocketSession {
  /** The subprotocol agreed on. */
  readonly protocol: string;
  /** Binary messages from the client, in order. */
  readonly messages: Buffer[];
  /** Resolves when the client closed the connection (close frame or end of the socket). */
  readonly closed: Promise<void>;
  /** Sends one binary message. */
  send(data: Buffer): void;
}

/** Accepts the upgrade, choosing the first of `protocols` the client offers. */
export function acceptWebSocket(options: { readonly request: IncomingMessage; readonly socket: Duplex; readonly protocols: readonly string[] }): WebSocketSession {
  const { request, socket } = options;
  const key = request.headers['sec-websocket-key'] ?? '';
  const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((name) => name.trim());
  const protocol = options.protocols.find((name) => offered.includes(name)) ?? '';
  const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, ...(protocol === '' ? [] : [`Sec-WebSocket-Protocol: ${protocol}`]), '', ''].join('\r\n'));
  const messages: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let done = false;
  const closed = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve();
    };
    socket.on('close', finish);
    socket.on('end', finish);
    socket.on('error', finish);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const frame = readFrame(pending);
        if (frame === undefined) return;
        pending = pending.subarray(frame.length);
        if (frame.opcode === 0x8) {
          socket.end(encodeFrame(0x8, Buffer.from([0x03, 0xe8])));
          finish();
          return;
        }
        if (frame.opcode === 0x2 || frame.opcode === 0x0) messages.push(frame.payload);
      }
    });
  });
  return { protocol, messages, closed, send: (data) => socket.write(encodeFrame(0x2, data)) };
}

function readFrame(buffer: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = (buffer[0] ?? 0) & 0x0f;
  const masked = ((buffer[1] ?? 0) & 0x80) !== 0;
  let size = (buffer[1] ?? 0) & 0x7f;
  let offset = 2;
  if (size === 126) {
    if (buffer.length < 4) return undefined;
    size = buffer.readUInt16BE(2);
    offset = 4;
  } else if (size === 127) {
    if (buffer.length < 10) return undefined;
    size = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const mask = masked ? buffer.subarray(offset, offset + 4) : undefined;
  if (masked) offset += 4;
  if (buffer.length < offset + size) return undefined;
  const payload = Buffer.from(buffer.subarray(offset, offset + size));
  if (mask !== undefined) for (let index = 0; index < payload.length; index += 1) payload[index] = (payload[index] ?? 0) ^ (mask[index % 4] ?? 0);
  return { opcode, payload, length: offset + size };
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : payload.length < 65536 ? Buffer.from([0x80 | opcode, 126, 0, 0]) : Buffer.alloc(10);
  if (payload.length >= 126 && payload.length < 65536) head.writeUInt16BE(payload.length, 2);
  if (payload.length >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([head, payload]);
}
