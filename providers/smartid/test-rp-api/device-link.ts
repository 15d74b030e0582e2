// The Smart-ID app opening a Web2App device link, as the test RP API plays it: the link's authCode must
// verify under the session secret (else the app refuses it), the app asks its holder to confirm, and it
// returns the browser to initialCallbackUrl with the session secret's digest and the verifier of the
// userChallenge it signed.
import express, { type Router } from 'express';
import { constantTimeEqual } from '../../../src/constant-time.ts';
import { html, page } from '../../../src/web/html.ts';
import { authCode, sessionSecretDigest, unprotectedLink } from '../device-link.ts';
import type { TestRpApi } from './server.ts';
import type { TestSession } from './sessions.ts';

function sessionOf(api: TestRpApi, token: unknown): TestSession | undefined {
  return [...api.sessions.values()].find(
    (s) => s.flowType === 'Web2App' && s.sessionToken !== undefined && s.sessionToken === token,
  );
}

function linkValid(api: TestRpApi, session: TestSession, query: Record<string, string>, base: string): boolean {
  const parts = {
    deviceLinkBase: base,
    deviceLinkType: 'Web2App' as const,
    sessionToken: session.sessionToken!,
    sessionSecret: session.sessionSecret!,
    schemeName: api.options.schemeName ?? 'smart-id-demo',
    rpChallenge: session.rpChallenge,
    relyingPartyName: session.relyingPartyName,
    brokeredRpName: '',
    interactions: session.interactions,
    initialCallbackUrl: session.initialCallbackUrl!,
    lang: query.lang ?? '',
  };
  return (
    query.deviceLinkType === 'Web2App' &&
    constantTimeEqual(query.authCode ?? '', authCode(parts, unprotectedLink(parts)))
  );
}

/** Where the app sends the browser after the session ends. */
function returnUrl(session: TestSession, withVerifier: boolean): string {
  const url = new URL(session.initialCallbackUrl!);
  url.searchParams.set('sessionSecretDigest', sessionSecretDigest(session.sessionSecret!));
  if (withVerifier) url.searchParams.set('userChallengeVerifier', session.userChallengeVerifier!);
  return url.toString();
}

export function deviceLinkRoutes(api: TestRpApi): Router {
  const router = express.Router();
  router.get('/', (req, res) => {
    const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
    const session = sessionOf(api, query.sessionToken);
    const base = `${req.protocol}://${req.get('host')}${req.baseUrl}`;
    if (!session || session.result || !linkValid(api, session, query, base)) {
      res.status(400).type('text/plain').send('The Smart-ID app cannot open this link.');
      return;
    }
    res.type('html').send(
      page(
        'Smart-ID app',
        html`<h1>Smart-ID app</h1><p>${session.account.givenName} ${session.account.surname}: log in to ${session.relyingPartyName}?</p>
<form method="post" action="${req.baseUrl}"><input type="hidden" name="sessionToken" value="${session.sessionToken}"><button class="primary" type="submit" name="answer" value="confirm">Confirm</button> <button type="submit" name="answer" value="refuse">Refuse</button></form>`,
        { lang: 'en' },
      ),
    );
  });
  router.post('/', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const session = sessionOf(api, body.sessionToken);
    if (!session || session.result) {
      res.status(400).type('text/plain').send('No such session.');
      return;
    }
    const confirm = body.answer === 'confirm';
    await api.act(session.id, confirm ? 'confirm' : 'refuse');
    res.redirect(303, returnUrl(session, confirm));
  });
  return router;
}
