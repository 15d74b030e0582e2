// Why Redis cannot be used, in words an operator can act on. ioredis reports a refused TLS handshake or a
// refused password as an 'error' event and then fails the waiting command with a generic message ("Reached
// the max retries per request limit", "Command timed out"); the store keeps the last connection failure
// and names it instead. Texts come from Node's TLS and socket errors and fixed phrases: they carry host
// names and certificate errors, never the URL (which may hold the password) or a key.

/** Node's certificate verification codes (X509_V_ERR_* without the prefix). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);

/** What ioredis says when it gave up on a command because the connection is not there. */
const GENERIC =
  /^(Reached the max retries per request limit|Command timed out|Connection is closed|Stream isn't writeable)/;

/** Reply errors that mean the store cannot serve now, not a wrong command: failover, loading, cluster
 * reconfiguring; out of memory under `noeviction` (OOM), writes stopped after a failed save (MISCONF), a
 * script running too long (BUSY), an ACL that forbids a command or key (NOPERM). Each is an outage for the
 * requests that meet it (the retry page, 503 for a service), not an error of the request. */
const OUTAGE_REPLY =
  /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MOVED|ASK|OOM|MISCONF|BUSY|NOPERM)\b/;

/** Whether a reply error's message says the store cannot serve now (see OUTAGE_REPLY). */
export function isOutageReply(message: string): boolean {
  return OUTAGE_REPLY.test(message);
}

/** The server refused the credentials (Redis ACL / requirepass). */
const AUTH_REFUSED = /^(WRONGPASS|NOAUTH)\b/;

const short = (text: string) => (text.length > 160 ? `${text.slice(0, 157)}...` : text);

/** Whether `err` says the server refused the user or password. */
export function isAuthRefusal(err: unknown): boolean {
  return AUTH_REFUSED.test(String((err as Error)?.message));
}

/**
 * Why a command failed, for the store's outage error: the connection failure behind ioredis's generic
 * words when one was seen since the last ready connection (`lastFailure`), else its own words.
 */
export function commandFailure(err: unknown, lastFailure: unknown, neverConnected: boolean): string {
  const message = String((err as Error)?.message);
  if (isAuthRefusal(err)) return describeRedisFailure(err);
  if (GENERIC.test(message) && lastFailure !== undefined) return describeRedisFailure(lastFailure, neverConnected);
  // a connection closed cleanly (by the server, a proxy) leaves no error behind: ioredis is reconnecting
  if (/^(Stream isn't writeable|Connection is closed)/.test(message))
    return 'no connection at the moment (reconnecting)';
  return short(message);
}

/**
 * A connection failure (an ioredis 'error' event, or a refused AUTH/HELLO) described for the operator;
 * `neverConnected`: no connection has succeeded yet, so a reset connection hints at a misconfiguration.
 */
export function describeRedisFailure(err: unknown, neverConnected = false): string {
  const e = err as (Error & { code?: string; reason?: string }) | undefined;
  const code = e?.code;
  const message = String(e?.message ?? err);
  if (/^WRONGPASS\b/.test(message)) return 'Redis refused the user name or password (WRONGPASS)';
  if (/^NOAUTH\b/.test(message)) return 'Redis wants a password (NOAUTH): give it in store.url or store.password';
  if (code && UNTRUSTED.has(code))
    return `its TLS certificate is not trusted: ${short(message)} (${code}); store.ca must hold the CA that signed it`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `its TLS certificate does not name the host: ${short(e?.reason ?? message)}`;
  if (code?.startsWith('ERR_SSL_')) return `the TLS handshake failed: ${short(message)} (${code})`;
  if (code === 'ECONNRESET' && neverConnected)
    return 'the server closed the connection (ECONNRESET): does it want TLS (rediss://) or a client certificate (store.cert, store.key)?';
  if (code) return `cannot connect: ${short(message)}`;
  return short(message);
}
