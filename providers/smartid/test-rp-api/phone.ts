// The demo's stand-in for the Smart-ID app: a page listing the sessions that wait for a phone, each with
// the service's text and three verification codes to choose from (one right), or refuse.
import { randomInt } from 'node:crypto';
import express, { type Router } from 'express';
import { html, page } from '../../../src/web/html.ts';
import { verificationCode } from '../protocol.ts';
import type { TestRpApi } from './server.ts';
import type { TestSession } from './sessions.ts';

function choices(right: string): string[] {
  const codes = new Set([right]);
  while (codes.size < 3) codes.add(String(randomInt(10000)).padStart(4, '0'));
  return [...codes].sort();
}

function displayText(interactionsB64: string): string {
  try {
    const list = JSON.parse(Buffer.from(interactionsB64, 'base64').toString('utf8')) as Record<string, string>[];
    return list[0]?.displayText200 ?? list[0]?.displayText60 ?? '';
  } catch {
    return '';
  }
}

/** The code the app offers: computed from the v2 hash, or the v3 rpChallenge. */
const codeOf = (s: TestSession) => verificationCode(Buffer.from(s.v2Hash ?? s.rpChallenge, 'base64'));

export function phoneRoutes(api: TestRpApi): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    // device-link sessions are answered by opening or scanning their link, not from this list
    const sessions = api.running().filter((s) => s.flowType === 'Notification');
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        page(
          'Smart-ID test phone',
          html`<h1>Smart-ID test phone</h1><p class="muted">Sessions waiting for the app (reload to see new ones).</p>
${sessions.length ? '' : html`<p>No session is waiting.</p>`}
${sessions.map((s) => {
  const right = codeOf(s);
  return html`<section data-session="${s.id}"><h2>${s.account.givenName} ${s.account.surname}</h2><p>${s.relyingPartyName}: ${displayText(s.interactions)}</p>
<form method="post" action="phone/${s.id}">${choices(right).map((c) => html`<button class="primary" type="submit" name="code" value="${c}">${c}</button> `)}<button type="submit" name="code" value="refuse">Refuse</button></form></section>`;
})}`,
          { lang: 'en' },
        ),
      );
  });
  router.post('/:id', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    const session = api.sessions.get(req.params.id);
    const code = String((req.body as Record<string, unknown> | undefined)?.code ?? '');
    if (session) {
      const right = codeOf(session);
      await api.act(session.id, code === 'refuse' ? 'refuse' : code === right ? 'confirm' : 'wrong_vc');
    }
    res.redirect(303, '../phone');
  });
  return router;
}
