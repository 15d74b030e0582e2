// A provider callback's form in the encoding it was posted in. Browsers submit a form in the encoding of
// the page that holds it (HTML, "Form submission", and no charset in the Content-Type), so a bank whose
// answer page is in WINDOWS-1257 posts the signed VK_USER_NAME as WINDOWS-1257 bytes; read as UTF-8, as
// the body parser does, its escapes stay undecoded and the signature cannot verify.
import { isUtf8 } from 'node:buffer';
import { parse } from 'node:querystring';
import type { IncomingMessage } from 'node:http';

const FORM_BYTES = Symbol('form bytes');

type WithFormBytes = IncomingMessage & { [FORM_BYTES]?: Buffer };

/** The body parser's `verify` hook: keeps the bytes of the posted form with the request. */
export function keepFormBytes(req: IncomingMessage, _res: unknown, bytes: Buffer): void {
  (req as WithFormBytes)[FORM_BYTES] = bytes;
}

/** A percent-encoded name or value as the bytes it stands for (the body was read byte for byte as latin1). */
const bytesOf = (text: string) =>
  Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );

/**
 * The posted form of `req`: as the body parser read it (UTF-8) unless `charset` is given and the form's
 * bytes are not valid UTF-8, then every name and value decoded from `charset` (a WHATWG label such as
 * `windows-1257`; `iso-8859-1` means windows-1252 there, as in browsers).
 */
export function postedForm(req: IncomingMessage & { body?: unknown }, charset: string | undefined): unknown {
  const bytes = (req as WithFormBytes)[FORM_BYTES];
  if (!charset || !bytes) return req.body;
  const text = bytes.toString('latin1');
  if (isUtf8(bytesOf(text))) return req.body;
  const decoder = new TextDecoder(charset);
  return { ...parse(text, '&', '=', { maxKeys: 0, decodeURIComponent: (t) => decoder.decode(bytesOf(t)) }) };
}
