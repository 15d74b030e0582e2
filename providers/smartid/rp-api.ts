// The RP API v3 client: start an authentication session and long-poll it. Every call goes through the
// provider's own transport (src/tls/agent.ts: TLS 1.2+, the configured CA, the pinned leaf keys), with
// read timeouts a few seconds beyond the long poll, as SK asks, and one deadline for each call as a whole
// (an answer that drips a byte at a time never trips a read timeout) and a size limit (an answer that
// never ends is read no further than that). Failures come back as an Ending.
import { BodyTooLargeError, boundedResponse } from '../../src/tls/bounded-body.ts';
import type { ProviderTransport } from '../../src/tls/transport.ts';
import type { Ending } from './results.ts';

export interface RpApiOptions {
  /** base URL ending in `/` (…/v3/) */
  url: string;
  transport: ProviderTransport;
  /** how long one call may take, connection to last byte (see rpCallLimitMs) */
  callLimitMs: number;
}

/** How long one RP API call may take in all: the transport's connect timeout (10 s, src/tls/agent.ts) and
 * its read timeout (long_poll_ms + 5 s, ./adapter.ts), and a second more. */
export const rpCallLimitMs = (longPollMs: number) => 10_000 + longPollMs + 5000 + 1000;

/** The largest RP API answer read: a session's result holds one certificate (a few KB of base64) and a
 * signature, so 64 KiB is ten times what SK sends. */
export const MAX_ANSWER_BYTES = 64 * 1024;

type Answer = { ok: true; json: unknown } | { ok: false; ending: Ending } | { ok: false; status: number };

export type Started = { ok: true; sessionID: string } | { ok: false; ending: Ending };
export interface DeviceLinkSession {
  sessionID: string;
  sessionToken: string;
  sessionSecret: string;
  deviceLinkBase: string;
}
export type DeviceLinkStarted = ({ ok: true } & DeviceLinkSession) | { ok: false; ending: Ending };
export type Polled = { running: true } | { running: false; ending: Ending };

const SESSION_ID = /^[A-Za-z0-9-]{1,100}$/;

function transportEnding(err: unknown): Ending {
  const cause = (err as { cause?: { code?: string; name?: string } }).cause;
  return { type: 'transport', reason: cause?.code ?? cause?.name ?? (err as Error).name ?? 'error' };
}

export class RpApi {
  private readonly options: RpApiOptions;
  readonly callLimitMs: number;

  constructor(options: RpApiOptions) {
    this.options = options;
    this.callLimitMs = options.callLimitMs;
  }

  /** One call, all of it within the call limit: its JSON (undefined when it is none), its HTTP status
   * when not 2xx, or the transport's ending (the deadline's `TimeoutError` included). */
  private async call(url: URL, init: RequestInit): Promise<Answer> {
    const signal = AbortSignal.timeout(this.callLimitMs);
    try {
      const res = await boundedResponse(
        await this.options.transport.fetch(url, { ...init, redirect: 'error', signal }),
        MAX_ANSWER_BYTES,
      );
      if (!res.ok) {
        await res.body?.cancel();
        return { ok: false, status: res.status };
      }
      // a body that is no JSON is the caller's to judge; one cut off by the deadline or the size limit is
      // the transport's
      const json = await res.json().catch((err: unknown) => {
        if (signal.aborted || err instanceof BodyTooLargeError) throw err;
        return undefined;
      });
      return { ok: true, json };
    } catch (err) {
      return { ok: false, ending: transportEnding(err) };
    }
  }

  /** POST authentication/notification/etsi/{PNOxx-…} */
  async startNotification(semanticsIdentifier: string, body: object): Promise<Started> {
    const posted = await this.post(`authentication/notification/etsi/${encodeURIComponent(semanticsIdentifier)}`, body);
    if (!posted.ok) return posted;
    const id = posted.json.sessionID;
    if (typeof id !== 'string' || !SESSION_ID.test(id))
      return { ok: false, ending: { type: 'end', endResult: 'malformed session start' } };
    return { ok: true, sessionID: id };
  }

  /** v2: POST authentication/etsi/{PNOxx-…} */
  async startV2(semanticsIdentifier: string, body: object): Promise<Started> {
    const posted = await this.post(`authentication/etsi/${encodeURIComponent(semanticsIdentifier)}`, body);
    if (!posted.ok) return posted;
    const id = posted.json.sessionID;
    if (typeof id !== 'string' || !SESSION_ID.test(id))
      return { ok: false, ending: { type: 'end', endResult: 'malformed session start' } };
    return { ok: true, sessionID: id };
  }

  /** POST authentication/device-link/anonymous: the person is whoever confirms in the app. */
  async startDeviceLink(body: object): Promise<DeviceLinkStarted> {
    const posted = await this.post('authentication/device-link/anonymous', body);
    if (!posted.ok) return posted;
    const { sessionID, sessionToken, sessionSecret, deviceLinkBase } = posted.json;
    const text = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;
    if (
      typeof sessionID !== 'string' ||
      !SESSION_ID.test(sessionID) ||
      !text(sessionToken, 100) ||
      !text(sessionSecret, 100) ||
      !text(deviceLinkBase, 500) ||
      !/^https?:\/\/[^?#]+$/.test(String(deviceLinkBase))
    )
      return { ok: false, ending: { type: 'end', endResult: 'malformed session start' } };
    return {
      ok: true,
      sessionID,
      sessionToken: String(sessionToken),
      sessionSecret: String(sessionSecret),
      deviceLinkBase: String(deviceLinkBase),
    };
  }

  private async post(
    path: string,
    body: object,
  ): Promise<{ ok: true; json: Record<string, unknown> } | { ok: false; ending: Ending }> {
    const answer = await this.call(new URL(path, this.options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if (!answer.ok) return 'ending' in answer ? answer : { ok: false, ending: { type: 'http', status: answer.status } };
    const json = answer.json;
    if (!json || typeof json !== 'object')
      return { ok: false, ending: { type: 'end', endResult: 'malformed session start' } };
    return { ok: true, json: json as Record<string, unknown> };
  }

  /** GET session/{id}?timeoutMs=…: RUNNING, or how it ended. */
  async poll(sessionID: string, timeoutMs: number): Promise<Polled> {
    const url = new URL(`session/${encodeURIComponent(sessionID)}`, this.options.url);
    url.searchParams.set('timeoutMs', String(timeoutMs));
    const answer = await this.call(url, { headers: { accept: 'application/json' } });
    if (!answer.ok) {
      if ('ending' in answer) return { running: false, ending: answer.ending };
      // SK answers 404 for a session it does not know or forgot (over 5 minutes old): not "no account"
      return {
        running: false,
        ending: answer.status === 404 ? { type: 'lost' } : { type: 'http', status: answer.status },
      };
    }
    const body = answer.json as { state?: unknown; result?: { endResult?: unknown } } | undefined;
    if (body?.state === 'RUNNING') return { running: true };
    if (body?.state !== 'COMPLETE') return { running: false, ending: { type: 'end', endResult: 'malformed session' } };
    const endResult = body.result?.endResult;
    if (endResult === 'OK') return { running: false, ending: { type: 'complete', session: body } };
    return {
      running: false,
      ending: { type: 'end', endResult: typeof endResult === 'string' ? endResult.slice(0, 60) : 'missing' },
    };
  }
}
