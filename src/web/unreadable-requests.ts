// Requests Node's HTTP parser refuses before the gateway sees them: a request line and headers beyond Node's
// 16 KiB (an authorization request whose URL carries a huge `claims` or `request`), bytes that are not HTTP,
// or a request not complete within `server.request_timeout`. Node answers these with a bare status line,
// which a browser shows as a blank page. A citizen gets a short page instead, in each of the three languages
// (the headers that would name one could not be read), and the operator one log line. The status stays what
// Node sends, and the connection is closed after it: at once by the client, or by the gateway a second later
// (a client that keeps its side open would otherwise hold it, as a dripping one did before the timeout).
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.ts';
import { UI_LOCALES } from '../login/locale.ts';
import { html, page } from './html.ts';
import { t, type MessageKey } from './i18n.ts';

/** What the page says for each status Node gives a request it cannot read. */
const MESSAGES: Record<number, MessageKey> = {
  400: 'error_bad_request',
  408: 'error_request_timeout',
  413: 'error_too_large',
  431: 'error_request_too_long',
};

/** Node's status for a parser error, as its own answer gives it. */
function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/** The whole answer for `status`: status line, headers (no script, style or image but the gateway's own, never
 * framed) and the page. */
function answer(status: number): Buffer {
  const message = MESSAGES[status]!;
  const title = UI_LOCALES.map((l) => t(l, 'error_title')).join(' · ');
  const body = Buffer.from(
    page(
      title,
      html`<h1>${title}</h1>${UI_LOCALES.map((l) => html`<p class="error" lang="${l}">${t(l, message)}</p>`)}`,
      { lang: 'lv' },
    ),
  );
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/html; charset=utf-8\r\n` +
    `Content-Length: ${body.length}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n` +
    "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'\r\n" +
    'Connection: close\r\n\r\n';
  return Buffer.concat([Buffer.from(head), body]);
}

/** How long a client has to read the page and close the connection before the gateway closes it. */
const CLOSE_AFTER_MS = 1000;

const ANSWERS = new Map(Object.keys(MESSAGES).map((status) => [Number(status), answer(Number(status))]));

/** Answers `server`'s unreadable requests with the page (see the top of this file). */
export function answerUnreadableRequests(server: Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // a connection reset or closed by the client has no one to answer
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOf(err.code);
    logger.warn('unreadable request refused', { status, reason: err.code });
    // as Node does: only where no answer to an earlier request on the connection has begun
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    // the page first, then the close; destroying at once could reset the connection before it is read
    socket.end(ANSWERS.get(status));
    const cut = setTimeout(() => socket.destroy(), CLOSE_AFTER_MS).unref();
    socket.once('close', () => clearTimeout(cut));
  });
}
