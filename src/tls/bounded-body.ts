// Reading a back-channel answer with a size limit: the body is counted as it streams in and the stream
// errored as soon as it passes the limit, which cancels the download (closing the connection), so a peer
// (or anyone on a plain-http path) cannot make the gateway buffer more than the limit, whatever
// Content-Length it declares or leaves out. The count is of the decoded body: a compressed answer is
// bounded after decompression too.

/** The answer was longer than the caller allows; nothing of it is returned. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number, message = `answer larger than ${limit} bytes`) {
    super(message);
    this.limit = limit;
  }
}

// bodies the fetch standard forbids a Response to have
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** `res` with its body bounded to `maxBytes`: a declared oversize is refused before anything is read, and
 * a body that grows past it fails its read with `tooLarge()`. A deadline is the caller's: pass an
 * AbortSignal to fetch, which also ends a body that is still arriving. */
export async function boundedResponse(
  res: Response,
  maxBytes: number,
  tooLarge: () => BodyTooLargeError = () => new BodyTooLargeError(maxBytes),
): Promise<Response> {
  if (!res.body || NULL_BODY_STATUS.has(res.status)) return res;
  if (Number(res.headers.get('content-length')) > maxBytes) {
    await res.body.cancel();
    throw tooLarge();
  }
  let size = 0;
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        // erroring the stream makes pipeThrough cancel the source: undici aborts the download
        if (size > maxBytes) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The whole body of `res`, at most `maxBytes` long; throws BodyTooLargeError (and cancels) past it. */
export async function readBoundedBody(res: Response, maxBytes: number): Promise<Buffer> {
  return Buffer.from(await (await boundedResponse(res, maxBytes)).arrayBuffer());
}
