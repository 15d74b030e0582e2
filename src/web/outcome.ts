// A step's Outcome (src/login/step.ts) as an HTTP response: the only place login steps meet Express.
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { Locale } from '../broker/adapter.ts';
import type { Outcome } from '../login/step.ts';
import { errorPage, redirectFormPage, selectionPage } from './views.ts';

/** The nonce helmet's CSP allows for this response's one inline script. */
export const cspNonce = (res: Response): string => res.locals.cspNonce as string;

export async function sendOutcome(
  engine: Provider,
  req: Request,
  res: Response,
  outcome: Outcome,
  locale: Locale,
): Promise<void> {
  const nonce = cspNonce(res);
  switch (outcome.type) {
    case 'redirect':
      res.redirect(303, outcome.url);
      return;
    case 'form':
      res.type('html').send(redirectFormPage({ locale, url: outcome.url, fields: outcome.fields, nonce }));
      return;
    case 'choose':
      res.type('html').send(selectionPage({ locale, ...outcome, nonce }));
      return;
    case 'finish':
      await engine.interactionFinished(req, res, outcome.result, { mergeWithLastSubmission: outcome.merge ?? false });
      return;
    case 'refuse': {
      const { status, problem, back, end } = outcome;
      res
        .status(status)
        .type('html')
        .send(errorPage({ locale, message: `error_${problem}`, nonce, back, end }));
    }
  }
}
