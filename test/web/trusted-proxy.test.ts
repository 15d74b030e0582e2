// The `proxy` setting (README, Configuration reference): the client address comes from X-Forwarded-For
// only when the peer is a listed TLS terminator, and the per-address rate limits (`limits`) count that
// address. Unlisted, anyone could name a new address in each request and walk past every limit; listed,
// the citizens behind one terminator must be counted apart, or one of them would spend the limit of all
// (and a client must not choose its address by sending its own X-Forwarded-For through the terminator).
// Over real HTTP from 127.0.0.1 (and 127.0.0.2, a peer no list names), with a small `/auth` limit.
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { useGateway, RP_REDIRECT, type GatewayInUse } from '../support/gateway.ts';

const LIMIT = 5;
// a window no test outlasts: every count here falls in one window
const limits = { authorization: LIMIT, window_seconds: 3600 };

/** One authorization request from the agency service's client `rp`, as a browser behind `forwardedFor`
 * (the X-Forwarded-For header as it arrives), from `localAddress` (default 127.0.0.1); returns the status. */
async function authorize(gw: GatewayInUse, forwardedFor?: string, localAddress?: string): Promise<number> {
  const url = oidc.buildAuthorizationUrl(gw.rp, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    idp_hint: 'mock-eid',
  });
  const headers: Record<string, string> = { 'accept-language': 'en' };
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  const init = { headers, redirect: 'manual' as const };
  const res = localAddress
    ? await undiciFetch(url, { ...init, dispatcher: new Agent({ localAddress }) })
    : await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

/** The addresses the rate-limit audit records name (one record per address, bucket and window). */
const limitedAddresses = (gw: GatewayInUse) =>
  (gw.audit as MemoryAuditLog).events.filter((e) => e.detail?.reason === 'rate_limited').map((e) => e.detail?.address);

describe('no proxy listed (the default)', () => {
  const gw = useGateway({ settings: { limits } });

  test('requests from one peer, each naming another X-Forwarded-For, share its limit and meet 429', async () => {
    expect(gw.config.proxy).toBe(false);
    const statuses: number[] = [];
    for (let i = 1; i <= LIMIT + 2; i += 1) statuses.push(await authorize(gw, `203.0.113.${i}`));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429, 429]);
    // counted, and audited, under the peer's own address
    expect(limitedAddresses(gw)).toEqual(['127.0.0.1']);
  });
});

describe("proxy: ['127.0.0.1'] (the terminator in front)", () => {
  const gw = useGateway({ settings: { limits, proxy: ['127.0.0.1'] } });

  test('two forwarded client addresses are counted apart: one meets 429, the other still logs in', async () => {
    const first: number[] = [];
    for (let i = 0; i <= LIMIT; i += 1) first.push(await authorize(gw, '198.51.100.7'));
    expect(first).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(await authorize(gw, '198.51.100.8')).toBe(303);
    expect(limitedAddresses(gw)).toContain('198.51.100.7');
    expect(limitedAddresses(gw)).not.toContain('198.51.100.8');
    expect(limitedAddresses(gw)).not.toContain('127.0.0.1');
  });

  test('a client sending its own X-Forwarded-For through the terminator is counted by the address the terminator saw', async () => {
    const statuses: number[] = [];
    // the terminator appends the peer it saw after what the client sent
    for (let i = 1; i <= LIMIT + 1; i += 1) statuses.push(await authorize(gw, `192.0.2.${i}, 198.51.100.9`));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(limitedAddresses(gw)).toContain('198.51.100.9');
  });

  test('forwarded IPv6 addresses count by their /64: a neighbour in it meets 429, the next /64 does not', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= LIMIT + 1; i += 1) statuses.push(await authorize(gw, `2001:db8:1:2::${i.toString(16)}`));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(await authorize(gw, '2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(429);
    expect(await authorize(gw, '2001:db8:1:3::1')).toBe(303);
  });

  test('a terminator that forwards the port too: each client counted by its address, the others unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= LIMIT + 1; i += 1) statuses.push(await authorize(gw, `198.51.100.70:${40000 + i}`));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(await authorize(gw, '203.0.113.90:51000')).toBe(303);
    expect(await authorize(gw, '[2001:db8:9:9::1]:443')).toBe(303);
    expect(limitedAddresses(gw)).toContain('198.51.100.70');
  });

  test('forwarded values that are no address (a terminator that passes them on unchecked) share one limit, and their text is neither counted apart nor audited', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= LIMIT + 1; i += 1) statuses.push(await authorize(gw, `not-an-address-${i}`));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(limitedAddresses(gw)).toContain('invalid');
    expect(limitedAddresses(gw).some((a) => String(a).includes('not-an-address'))).toBe(false);
  });

  test('a peer not in the list cannot name its address: its forwarded values share its own limit', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= LIMIT + 1; i += 1) statuses.push(await authorize(gw, `203.0.113.${100 + i}`, '127.0.0.2'));
    expect(statuses).toEqual([...Array(LIMIT).fill(303), 429]);
    expect(limitedAddresses(gw)).toContain('127.0.0.2');
  });
});
