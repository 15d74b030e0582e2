// A client that drips its request holds a connection and the body read so far: the gateway's listeners cut
// a request that is not complete within `server.request_timeout` (30 s by default, Node's own is 300 s;
// its headers within 20 s) with 408, over a real socket.
import net from 'node:net';
import type http from 'node:http';
import { listen } from '../../src/tls/listeners.ts';

/** Reads whatever the server sends on `socket` until it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((ok) => socket.once('close', () => ok(text)));
}

let server: http.Server;
let port: number;
beforeAll(async () => {
  // answers once it has read the whole body, as the gateway's body parsers do
  server = await listen(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('read it all\n'));
    },
    { request_timeout: 5 },
    0,
    '127.0.0.1',
  );
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

test.each([
  [
    'a body dripped past server.request_timeout',
    'POST /token HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000\r\n\r\ngrant_type=',
    'a',
  ],
  ['headers never finished', 'GET /auth HTTP/1.1\r\nHost: gateway\r\n', 'X-Slow: a\r\n'],
])(
  '%s: 408 and the connection closed',
  async (_, start, more) => {
    const socket = net.connect(port, '127.0.0.1');
    const answer = untilClosed(socket);
    socket.write(start);
    // a little now and then, never the whole request
    const drip = setInterval(() => socket.writable && socket.write(more), 1000);
    try {
      expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  },
  30_000,
);

test('the defaults: 30 s for a request, 20 s for its headers', async () => {
  const plain = await listen(() => {}, {}, 0, '127.0.0.1');
  try {
    expect([plain.requestTimeout, plain.headersTimeout]).toEqual([30_000, 20_000]);
  } finally {
    await new Promise<void>((ok) => plain.close(() => ok()));
  }
});
