// The user's phone as an API for tests and the demo: list what waits for an answer, answer one session or
// a person's latest, or scan a QR code; and SK forgetting a session. Scanning is what the Smart-ID app does with a QR device link:
// the link must be one this RP API issued for a QR session, its elapsedSeconds close to the time since
// the session started (a photographed, stale code is refused), and its authCode the HMAC under the
// session secret over exactly the link received (a forged or altered link is refused).
import express, { type Response, type Router } from 'express';
import { constantTimeEqual } from '../../../src/constant-time.ts';
import { authCode } from '../device-link.ts';
import type { TestRpApi } from './server.ts';
import type { PhoneAction, TestSession } from './sessions.ts';

export const PHONE_ACTIONS: readonly PhoneAction[] = [
  'confirm',
  'refuse',
  'wrong_vc',
  'timeout',
  'unusable',
  'not_supported',
];

/** How far a QR code's elapsedSeconds may lag or lead the session's age (the page redraws it every second). */
export const QR_TOLERANCE_SECONDS = 5;

export function problem(res: Response, status: number, title: string): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status }));
}

/** Why the app refuses a scanned link, or the session it belongs to. */
export function scanQr(api: TestRpApi, link: string, now = Date.now()): TestSession | string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return 'not a link';
  }
  const q = url.searchParams;
  const session = [...api.sessions.values()].find(
    (s) => s.flowType === 'QR' && s.sessionToken !== undefined && s.sessionToken === q.get('sessionToken'),
  );
  if (!session || session.result) return 'no running QR session for this link';
  if (q.get('deviceLinkType') !== 'QR' || q.get('sessionType') !== 'auth') return 'not an authentication QR link';
  const given = q.get('authCode') ?? '';
  const marker = link.lastIndexOf('&authCode=');
  if (marker < 0 || link.slice(marker + '&authCode='.length) !== given) return 'authCode missing or not last';
  const unprotected = link.slice(0, marker);
  const expected = authCode(
    {
      deviceLinkBase: '',
      deviceLinkType: 'QR',
      sessionToken: session.sessionToken!,
      sessionSecret: session.sessionSecret!,
      schemeName: api.options.schemeName ?? 'smart-id-demo',
      rpChallenge: session.rpChallenge,
      relyingPartyName: session.relyingPartyName,
      brokeredRpName: '',
      interactions: session.interactions,
      initialCallbackUrl: '',
      lang: '',
    },
    unprotected,
  );
  if (!constantTimeEqual(given, expected)) return 'authCode does not verify';
  const elapsed = q.get('elapsedSeconds') ?? '';
  const age = (now - session.createdAt) / 1000;
  if (!/^\d{1,5}$/.test(elapsed) || Math.abs(Number(elapsed) - age) > QR_TOLERANCE_SECONDS) return 'QR code is stale';
  return session;
}

export function controlRoutes(api: TestRpApi): Router {
  const router = express.Router();
  router.get('/sessions', (_req, res) => {
    res.json(api.running().map((s) => ({ sessionID: s.id, semanticsIdentifier: s.account.semanticsIdentifier })));
  });
  router.post('/sessions/:id/:action', async (req, res) => {
    const action = req.params.action as PhoneAction;
    if (!PHONE_ACTIONS.includes(action)) return problem(res, 400, 'Unknown action');
    res.status((await api.act(req.params.id, action)) ? 204 : 404).end();
  });
  // SK forgets a session over 5 minutes old, or loses one: its poll then answers 404
  router.delete('/sessions/:id', (req, res) => {
    res.status(api.sessions.delete(req.params.id) ? 204 : 404).end();
  });
  router.post('/accounts/:id/:action', async (req, res) => {
    const action = req.params.action as PhoneAction;
    if (!PHONE_ACTIONS.includes(action)) return problem(res, 400, 'Unknown action');
    const session = api.running(req.params.id)[0];
    res.status(session && (await api.act(session.id, action)) ? 204 : 404).end();
  });
  // the device holder's phone scans a QR code: {"link": "...", "action": "confirm"}
  router.post('/scan', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = (body.action ?? 'confirm') as PhoneAction;
    if (typeof body.link !== 'string' || !PHONE_ACTIONS.includes(action)) return problem(res, 400, 'Bad Request');
    const scanned = scanQr(api, body.link);
    if (typeof scanned === 'string') return problem(res, 400, `The Smart-ID app refuses this QR code: ${scanned}`);
    await api.act(scanned.id, action);
    res.status(204).end();
  });
  return router;
}
