// A size bound on every back-channel answer (discovery, JWKS, PAR, token, userinfo). openid-client reads
// each body whole with response.json()/text(); it gets the body through the counting stream of
// src/tls/bounded-body.ts instead, so an upstream cannot make the gateway buffer an unbounded answer.
import { BodyTooLargeError, boundedResponse } from '../../src/tls/bounded-body.ts';

/** The upstream's answer was larger than max_response_bytes. */
export class ResponseTooLargeError extends BodyTooLargeError {
  override name = 'ResponseTooLargeError';
  readonly code = 'ERR_VPM_RESPONSE_TOO_LARGE';
  constructor(url: string, limit: number) {
    // the endpoint without its query: which answer it was, never a parameter's value
    const where = URL.parse(url);
    super(
      limit,
      `upstream response from ${where ? `${where.origin}${where.pathname}` : 'unknown URL'} larger than ${limit} bytes (max_response_bytes)`,
    );
  }
}

/** The same fetch, with every response body bounded to `maxBytes`. */
export function boundedFetch(fetch: typeof globalThis.fetch, maxBytes: number): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return boundedResponse(response, maxBytes, () => new ResponseTooLargeError(url, maxBytes));
  };
}
