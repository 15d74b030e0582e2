// The floor `npm run bench` compares the gateway with: bare node-oidc-provider 9 (its default in-memory
// storage) with the most trivial brokered login that has the gateway's shape: a selection form, the
// hand-off to an upstream (served here, a page with a form as the mock eID has), the upstream's answer at a
// callback, login finished with a grant, and an ES256 ID token. No audit log, no rate limits, no checks of
// the upstream's answer beyond its single-use state: what any brokered login costs at least.
// Started by bench/run.ts as its own process; prints and sends (IPC) its issuer once it listens.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { BENCH_CLIENT } from './clients.ts';

const PERSON = { sub: 'PNOLV-010180-15097', given_name: 'Jānis', family_name: 'Bērziņš' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: BENCH_CLIENT.clientId,
      client_secret: BENCH_CLIENT.clientSecret,
      redirect_uris: [BENCH_CLIENT.redirectUri],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'floor' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['given_name', 'family_name'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ ...PERSON, sub }) }),
});
provider.proxy = true;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** state handed to the upstream -> the interaction it belongs to (single use) */
const handedOff = new Map<string, string>();
const form = express.urlencoded({ extended: false, limit: '8kb' });
const app = express();
app.disable('x-powered-by');

app.get('/interaction/:uid', async (req, res) => {
  const { uid } = await provider.interactionDetails(req, res);
  res
    .type('html')
    .send(
      `<!doctype html><title>Choose</title><form method="post" action="/interaction/${uid}/provider"><input type="hidden" name="provider" value="upstream"><button>Upstream</button></form>`,
    );
});
app.post('/interaction/:uid/provider', form, async (req, res) => {
  const { uid } = await provider.interactionDetails(req, res);
  const state = randomBytes(16).toString('base64url');
  handedOff.set(state, uid);
  const back = `${issuer}/interaction/${uid}/callback`;
  res.redirect(303, `/upstream/authorize?${new URLSearchParams({ state, redirect_uri: back })}`);
});
// the upstream: a page with the person's choice as a form, as the mock eID serves one
app.get('/upstream/authorize', (req, res) => {
  const q = req.query as Record<string, string>;
  res
    .type('html')
    .send(
      `<!doctype html><title>Upstream</title><form method="post" action="/upstream/decide"><input type="hidden" name="state" value="${esc(q.state ?? '')}"><input type="hidden" name="redirect_uri" value="${esc(q.redirect_uri ?? '')}"><input type="hidden" name="user" value="0"><button>Log in</button></form>`,
    );
});
app.post('/upstream/decide', form, (req, res) => {
  const body = req.body as Record<string, string>;
  if (!body.redirect_uri?.startsWith(`${issuer}/`)) return void res.status(400).send('bad redirect');
  res.redirect(303, `${body.redirect_uri}?${new URLSearchParams({ state: body.state ?? '', user: PERSON.sub })}`);
});
app.get('/interaction/:uid/callback', async (req, res) => {
  const details = await provider.interactionDetails(req, res);
  const state = String(req.query.state ?? '');
  if (handedOff.get(state) !== details.uid) return void res.status(400).send('unknown state');
  handedOff.delete(state);
  const accountId = PERSON.sub;
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
});
app.use(provider.callback());
server.on('request', app);

process.stdout.write(`${JSON.stringify({ msg: 'floor listening', issuer })}\n`);
process.send?.({ bench: 'ready', issuer });
