// The login a rate-limited request belongs to (./rate-limit.ts): its interaction's uid is in the path of
// the login pages (`/interaction/<uid>/...`, where the engine's interaction cookie is scoped) and of the
// engine's resume (`/auth/<uid>`, the resume cookie's path). Such a request is answered with the way
// back to the service and the login's reference; the way back itself is let through on its own bucket.
import type { Request } from 'express';
import type Provider from 'oidc-provider';

/** What the limit needs of a login: enough to offer its way back, word the page and audit the refusal. */
export interface LimitedLogin {
  /** the interaction's uid: the login's correlation id in the audit log */
  uid: string;
  clientId: string;
  /** the service's ui_locales for this login */
  uiLocales: string | undefined;
  /** the login already ends with an OAuth error: its resume only carries that error to the service */
  errorWaits: boolean;
  /** seconds until the engine forgets the interaction */
  secondsLeft: number;
}

export type FindLogin = (uid: string) => Promise<LimitedLogin | undefined>;

const LOGIN_PATH = /^\/(?:interaction\/([A-Za-z0-9_-]{1,64})(?:\/|$)|auth\/([A-Za-z0-9_-]{1,64})\/?$)/;

/** The interaction uid the request's path names, if it is a login page or the engine's resume. */
export function loginUidOf(req: Pick<Request, 'baseUrl' | 'path'>): string | undefined {
  const match = LOGIN_PATH.exec(`${req.baseUrl}${req.path}`);
  return match?.[1] ?? match?.[2];
}

/** Whether the request ends `login` at the service: the way back posted from one of our pages, or the
 * engine's resume handing the service the OAuth error such a way back (or a refusal) left. */
export function isWayBack(req: Pick<Request, 'baseUrl' | 'path' | 'method'>, login: LimitedLogin): boolean {
  const path = `${req.baseUrl}${req.path}`;
  if (req.method === 'POST') return path === `/interaction/${login.uid}/abort`;
  return req.method === 'GET' && login.errorWaits && /^\/auth\/[^/]+\/?$/.test(path);
}

/** Logins as the engine keeps them: its Interaction model (a store read, no write). */
export function engineLogins(engine: Pick<Provider, 'Interaction'>): FindLogin {
  return async (uid) => {
    const interaction = await engine.Interaction.find(uid);
    if (!interaction) return undefined;
    const uiLocales = interaction.params.ui_locales;
    return {
      uid: interaction.uid,
      clientId: String(interaction.params.client_id),
      uiLocales: typeof uiLocales === 'string' ? uiLocales : undefined,
      errorWaits: Boolean(interaction.result?.error),
      secondsLeft: Math.max(1, (interaction.exp ?? 0) - Math.floor(Date.now() / 1000)),
    };
  };
}
