// The login step node-oidc-provider hands to the application at its interaction URL: the page where the
// person and level are picked, then a login (a grant for the requested scope) or an abort with an error.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { loginPage } from './pages.ts';
import { ACR_VALUES, EIDAS, type TestUser } from './users.ts';

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      data += chunk;
      if (data.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

export type InteractionHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

/** `path` is below the issuer; `prefix` is the mount prefix the page's own links must carry. */
export function interactionHandler(
  provider: Provider,
  { prefix, users }: { prefix: string; users: Record<string, TestUser> },
): InteractionHandler {
  return async function interaction(req, res, path) {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
    if (!match) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const [, uid, action] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (!action && req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(loginPage(`${prefix}/interaction/${uid!}`, users, ACR_VALUES));
      return;
    }
    if (req.method !== 'POST') {
      res.statusCode = 405;
      res.end();
      return;
    }
    const form = await readBody(req);
    if (action === 'abort') {
      const error = form.get('error') || 'access_denied';
      const description = form.get('error_description');
      await provider.interactionFinished(
        req,
        res,
        { error, ...(description ? { error_description: description } : {}) },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = form.get('user') ?? 'valid';
    if (!users[accountId]) {
      res.statusCode = 400;
      res.end('unknown test user');
      return;
    }
    const params = details.params as { client_id: string; scope?: string };
    const grant = new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope ?? 'openid');
    const grantId = await grant.save();
    const acr = form.get('acr') || EIDAS.high;
    const amr = form.getAll('amr').filter(Boolean);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, acr, amr: amr.length ? amr : ['smart_card'] }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  };
}
