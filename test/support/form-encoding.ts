// What a browser does with a page's character set: it reads the page in the charset its Content-Type
// names, and submits the page's forms in that charset (HTML, "Form submission"): a bank's WINDOWS-1257
// page posts its fields as WINDOWS-1257 bytes. The platform decodes any charset but encodes only UTF-8;
// a single-byte charset's encoder is the reverse of its decoder.

/** The charset a response's Content-Type names (utf-8 when none). */
export function charsetOf(headers: Headers): string {
  return /charset="?([^";\s]+)/i.exec(headers.get('content-type') ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
}

const tables = new Map<string, Map<string, number>>();

function encoderTable(charset: string): Map<string, number> {
  let table = tables.get(charset);
  if (table) return table;
  const decoder = new TextDecoder(charset);
  table = new Map();
  for (let byte = 0; byte < 256; byte += 1) table.set(decoder.decode(Uint8Array.of(byte)), byte);
  tables.set(charset, table);
  return table;
}

function bytesIn(text: string, charset: string): Uint8Array {
  if (new TextDecoder(charset).encoding === 'utf-8') return new TextEncoder().encode(text);
  const table = encoderTable(charset);
  // a character the charset lacks goes as a numeric character reference, as browsers send it
  return Uint8Array.from(
    [...text].flatMap((ch) => table.get(ch) ?? [...new TextEncoder().encode(`&#${ch.codePointAt(0)};`)]),
  );
}

/** application/x-www-form-urlencoded in `charset`: unreserved bytes as they are, space as +, others %XX. */
export function urlencodedIn(form: Record<string, string>, charset: string): string {
  const encode = (text: string) =>
    [...bytesIn(text, charset)]
      .map((b) =>
        /[A-Za-z0-9*\-._]/.test(String.fromCharCode(b))
          ? String.fromCharCode(b)
          : b === 0x20
            ? '+'
            : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('');
  return Object.entries(form)
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
}
