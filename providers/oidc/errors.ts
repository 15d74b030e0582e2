// Maps whatever openid-client (or the network) throws to the broker's small error vocabulary. Details
// carry error codes and library messages only: never tokens, claims or personal data.
import * as client from 'openid-client';
import { ProviderError } from '../../src/broker/adapter.ts';
import type { OidcProviderConfig } from './config.ts';
import { ResponseTooLargeError } from './response-limit.ts';

const UNAVAILABLE_ERRORS = new Set(['server_error', 'temporarily_unavailable']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** `error` of an authorization response -> our code. */
export function authorizationErrorCode(
  error: string,
  description: string | undefined,
  errors: OidcProviderConfig['errors'],
): ProviderError['code'] {
  if (errors.cancel_errors.includes(error)) return 'user_cancel';
  if (error === 'access_denied')
    return description && new RegExp(errors.cancel_description, 'i').test(description)
      ? 'user_cancel'
      : 'access_denied';
  if (UNAVAILABLE_ERRORS.has(error)) return 'temporarily_unavailable';
  return 'invalid_response';
}

function safeToken(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 60) : 'unknown';
}

/** `err` and the errors it was caused by, five deep (openid-client wraps what fetch or a body read threw). */
function* causes(err: unknown): Generator<unknown> {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) yield e;
}

function isNetworkFailure(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const name = (e as { name?: unknown }).name;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/** A TLS failure on the back channel is a configuration or attack problem, not an outage: fail closed and say so. */
function tlsFailure(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|ERR_PIN/i.test(code) && !NETWORK_CODES.has(code))
      return code;
  }
  return undefined;
}

export function toProviderError(err: unknown, step: string, errors: OidcProviderConfig['errors']): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof client.AuthorizationResponseError) {
    return new ProviderError(
      authorizationErrorCode(err.error, err.error_description, errors),
      `upstream returned error=${safeToken(err.error)}`,
    );
  }
  if (err instanceof client.ResponseBodyError) {
    const code =
      err.status >= 500 || UNAVAILABLE_ERRORS.has(err.error) ? 'temporarily_unavailable' : 'invalid_response';
    return new ProviderError(code, `${step}: upstream answered ${err.status} error=${safeToken(err.error)}`);
  }
  const tooLarge = [...causes(err)].find((e) => e instanceof ResponseTooLargeError);
  if (tooLarge) return new ProviderError('invalid_response', `${step}: ${tooLarge.message}`);
  const tls = tlsFailure(err);
  if (tls) return new ProviderError('temporarily_unavailable', `${step}: TLS failure ${tls}`);
  if (isNetworkFailure(err)) return new ProviderError('temporarily_unavailable', `${step}: upstream unreachable`);
  if (err instanceof client.ClientError) {
    // an unexpected HTTP status: a 5xx is an outage, anything else an unusable answer
    const cause = (err as { cause?: unknown }).cause;
    // duck-typed: the transport's undici Response is not the global Response class
    const status = (cause as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && typeof (cause as { headers?: unknown }).headers === 'object') {
      return new ProviderError(
        status >= 500 ? 'temporarily_unavailable' : 'invalid_response',
        `${step}: upstream answered HTTP ${status}`,
      );
    }
    // openid-client wraps oauth4webapi's errors; their messages are fixed strings without token content
    const inner = cause instanceof Error ? cause.message : err.message;
    return new ProviderError('invalid_response', `${step}: ${inner}${err.code ? ` (${err.code})` : ''}`);
  }
  return new ProviderError('invalid_response', `${step}: ${(err as Error)?.message ?? 'unknown failure'}`);
}
