// The RP API v3 client: start an authentication session and long-poll it. Every call goes through the
// provider's own transport (src/tls/agent.ts: TLS 1.2+, the configured CA, the pinned leaf keys), with
// read timeouts a few seconds beyond the long poll, as SK asks. Failures come back as an Ending.
import type { ProviderTransport } from '../../src/tls/transport.ts';
import type { Ending } from './results.ts';

export interface RpApiOptions {
  /** base URL ending in `/` (…/v3/) */
  url: string;
  transport: ProviderTransport;
}

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

  constructor(options: RpApiOptions) {
    this.options = options;
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
    let res: Response;
    try {
      res = await this.options.transport.fetch(new URL(path, this.options.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'error',
      });
    } catch (err) {
      return { ok: false, ending: transportEnding(err) };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, ending: { type: 'http', status: res.status } };
    }
    const json = (await res.json().catch(() => undefined)) as unknown;
    if (!json || typeof json !== 'object')
      return { ok: false, ending: { type: 'end', endResult: 'malformed session start' } };
    return { ok: true, json: json as Record<string, unknown> };
  }

  /** GET session/{id}?timeoutMs=…: RUNNING, or how it ended. */
  async poll(sessionID: string, timeoutMs: number): Promise<Polled> {
    let res: Response;
    try {
      const url = new URL(`session/${encodeURIComponent(sessionID)}`, this.options.url);
      url.searchParams.set('timeoutMs', String(timeoutMs));
      res = await this.options.transport.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error' });
    } catch (err) {
      return { running: false, ending: transportEnding(err) };
    }
    if (!res.ok) {
      await res.body?.cancel();
      // SK answers 404 for a session it does not know or forgot (over 5 minutes old): not "no account"
      return { running: false, ending: res.status === 404 ? { type: 'lost' } : { type: 'http', status: res.status } };
    }
    const body = (await res.json().catch(() => undefined)) as
      | { state?: unknown; result?: { endResult?: unknown } }
      | undefined;
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
