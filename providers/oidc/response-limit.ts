// A size bound on every back-channel answer (discovery, JWKS, PAR, token, userinfo). openid-client reads
// each body whole with response.json()/text(); it gets the body through a counting stream instead, which
// fails the read and cancels the download (closing the connection) once the provider's limit is passed,
// so an upstream cannot make the gateway buffer an unbounded answer. The count is of the decoded body: a
// compressed answer is bounded after decompression too.

// bodies the fetch standard forbids a Response to have
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** The upstream's answer was larger than max_response_bytes. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  readonly code = 'ERR_VPM_RESPONSE_TOO_LARGE';
  constructor(url: string, limit: number) {
    // the endpoint without its query: which answer it was, never a parameter's value
    const where = URL.parse(url);
    super(
      `upstream response from ${where ? `${where.origin}${where.pathname}` : 'unknown URL'} larger than ${limit} bytes (max_response_bytes)`,
    );
  }
}

/** The same fetch, with every response body bounded to `maxBytes`. */
export function boundedFetch(fetch: typeof globalThis.fetch, maxBytes: number): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body || NULL_BODY_STATUS.has(response.status)) return response;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // refuse a declared oversize before reading anything
    if (Number(response.headers.get('content-length')) > maxBytes) {
      await response.body.cancel();
      throw new ResponseTooLargeError(url, maxBytes);
    }
    let size = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          // erroring the stream makes pipeThrough cancel the source: undici aborts the download
          if (size > maxBytes) controller.error(new ResponseTooLargeError(url, maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
