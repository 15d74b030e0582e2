// A client that drips its request holds a connection and the body read so far: the gateway's listeners cut
// a request that is not complete within `server.request_timeout` (30 s by default, Node's own is 300 s;
// its headers within 20 s) with 408, over a real socket. That answer, and those to requests Node cannot
// parse, carry a short page (src/web/unreadable-requests.ts), as `start` sets its listeners up.
import net from 'node:net';
import type http from 'node:http';
import { memoryLogger } from '../../src/logger.ts';
import { listen } from '../../src/tls/listeners.ts';
import { answerUnreadableRequests } from '../../src/web/unreadable-requests.ts';

/** Reads whatever the server sends on `socket` until it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((ok) => socket.once('close', () => ok(text)));
}

let server: http.Server;
let port: number;
const logger = memoryLogger();
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
  answerUnreadableRequests(server, logger);
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
  '%s: 408 and the connection closed, though the client keeps its side open',
  async (_, start, more) => {
    // half open: the client's side stays open after the server's FIN, so only the server's close ends this
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    // the server cuts the connection while the client still drips: a write may then fail (EPIPE, ECONNRESET)
    socket.on('error', () => {});
    const answer = untilClosed(socket);
    socket.write(start);
    // a little now and then, never the whole request
    const drip = setInterval(() => socket.writable && socket.write(more), 1000);
    try {
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toContain('The request did not arrive in time.');
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

/** What the server answers to `bytes` sent on a fresh connection, once it has closed it. */
async function answerTo(bytes: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const answer = untilClosed(socket);
  socket.end(bytes);
  return answer;
}

test('bytes that are not HTTP: 400 with the page in each language, closed, and one log line without them', async () => {
  const text = await answerTo('HELLO 010180-15097 \x01\x02\r\n\r\n');
  expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(text).toContain('Connection: close');
  expect(text).toContain("Content-Security-Policy: default-src 'none'");
  expect(text).toContain('The request could not be read.');
  expect(text).toContain('Pieprasījumu nevarēja nolasīt.');
  expect(text).toContain('Запрос не удалось прочитать.');
  expect(logger.lines.some((l) => l.includes('unreadable request refused') && l.includes('"status":400'))).toBe(true);
  expect(logger.lines.join('\n')).not.toContain('HELLO');
});

test('headers beyond what Node reads: 431 and the page; the server goes on answering', async () => {
  const text = await answerTo(`GET /auth?claims=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: gateway\r\n\r\n`);
  expect(text).toMatch(/^HTTP\/1\.1 431 /);
  expect(text).toContain('The request is too large to be read (its address or its cookies).');
  const after = await answerTo('POST / HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  expect(after).toMatch(/^HTTP\/1\.1 200 /);
});

test('a client that resets its connection mid-request: no answer, no log line, nothing breaks', async () => {
  const before = logger.lines.length;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((ok) => socket.once('connect', () => ok()));
  socket.write('GET /auth HTTP/1.1\r\nHost: gate');
  socket.resetAndDestroy();
  const after = await answerTo('GET / HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n');
  expect(after).toMatch(/^HTTP\/1\.1 200 /);
  expect(logger.lines.slice(before).filter((l) => l.includes('unreadable'))).toEqual([]);
});
