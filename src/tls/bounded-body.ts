// Reading a back-channel answer with a size limit: the body is streamed and the stream cancelled as soon
// as it passes the limit, so a peer (or anyone on a plain-http path) cannot make the gateway buffer more
// than the limit, whatever Content-Length it declares or leaves out.

/** The answer was longer than the caller allows; nothing of it is returned. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`answer larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/** The whole body of `res`, at most `maxBytes` long; throws BodyTooLargeError (and cancels) past it. A
 * deadline is the caller's: pass an AbortSignal to fetch, which also ends a body that is still arriving. */
export async function readBoundedBody(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new BodyTooLargeError(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // leaving the loop by the throw cancels the stream (and with it the connection's download)
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
