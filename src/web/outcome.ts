// A step's Outcome (src/login/step.ts) as an HTTP response: the only place login steps meet Express.
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { UiConfig } from '../config/schema.ts';
import type { UiLocale } from '../login/locale.ts';
import type { Outcome } from '../login/step.ts';
import { errorPage, redirectFormPage, selectionPage } from './views.ts';

/** The nonce helmet's CSP allows for this response's one inline script. */
export const cspNonce = (res: Response): string => res.locals.cspNonce as string;

/** The configured branding and footer (src/web/app.ts puts it on every response). */
export const siteOf = (res: { locals?: Record<string, unknown> }): UiConfig | undefined =>
  res.locals?.ui as UiConfig | undefined;

export async function sendOutcome(
  engine: Provider,
  req: Request,
  res: Response,
  outcome: Outcome,
  locale: UiLocale,
): Promise<void> {
  const nonce = cspNonce(res);
  const site = siteOf(res)!;
  switch (outcome.type) {
    case 'redirect':
      res.redirect(303, outcome.url);
      return;
    case 'form':
      res.type('html').send(redirectFormPage({ locale, url: outcome.url, fields: outcome.fields, nonce, site }));
      return;
    case 'choose':
      res.type('html').send(selectionPage({ locale, ...outcome, nonce, site }));
      return;
    case 'finish':
      await engine.interactionFinished(req, res, outcome.result, { mergeWithLastSubmission: outcome.merge ?? false });
      return;
    case 'refuse': {
      const { status, problem, type: _, ...ways } = outcome;
      res
        .status(status)
        .type('html')
        .send(errorPage({ locale, message: `error_${problem}`, nonce, site, ...ways }));
    }
  }
}
