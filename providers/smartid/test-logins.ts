// Smart-ID logins as the gateway runs them, for the tests: begun at a broker in front of the harness's
// adapter, walked through the adapter's pages, and completed at the broker callback.
import type { Loa } from '../../src/identity/loa.ts';
import type { UiLocale } from '../../src/login/locale.ts';
import { brokerFor, TEST_BROWSER } from '../../test/support/broker.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import type { PhoneAction } from './test-rp-api/sessions.ts';
import type { Harness } from './test-harness.ts';
import { type Arrival, walk } from './test-user.ts';

export interface LoginOptions {
  /** the login's language (default en) */
  locale?: UiLocale;
  /** the level the service asks for (default: none asked) */
  acr?: Loa;
  /** the service asking (default c; a name in the entry's service_names is shown in the app) */
  clientId?: string;
  /** the login's correlation id (default c) */
  correlationId?: string;
}

/** Where a login ended: the user's arrival and, when that is the broker callback, the broker's result or the error it threw. */
export interface LoginEnd {
  arrival: Arrival;
  outcome?: unknown;
}

export interface BegunLogin {
  /** the adapter's start: a redirect to its form */
  action: { type: 'redirect'; url: string };
  /** the login at the adapter's pages (their ?h=) */
  handle: string;
  /** completes the login at the broker when `arrival` is its callback */
  end(arrival: Arrival): Promise<LoginEnd>;
}

/** A login begun at a broker in front of the harness's adapter. */
export async function beginLogin(h: Harness, options: LoginOptions = {}): Promise<BegunLogin> {
  const t = brokerFor(h.adapter, { callbackUrl: h.callbackUrl });
  const { action } = await t.broker.begin({
    browser: TEST_BROWSER,
    uid: 'u',
    clientId: options.clientId ?? 'c',
    providerId: h.adapter.id,
    locale: options.locale ?? 'en',
    correlationId: options.correlationId ?? 'c',
    ...(options.acr ? { acr: options.acr } : {}),
  });
  if (action.type !== 'redirect') throw new Error('Smart-ID starts with a redirect');
  return {
    action,
    handle: new URL(action.url).searchParams.get('h')!,
    async end(arrival) {
      if (!('callback' in arrival)) return { arrival };
      const outcome = await t.broker
        .complete(h.adapter.id, arrival.callback, 'GET', TEST_BROWSER)
        .catch((e: unknown) => e);
      return { arrival, outcome };
    },
  };
}

/**
 * A whole login: begun, the person's code entered on the form (or the form cancelled), the phone
 * answering as `phone` says when given, and ended.
 */
export async function loginAs(
  h: Harness,
  who: { country: string; code: string } | 'cancel',
  options: LoginOptions & { phone?: PhoneAction } = {},
): Promise<LoginEnd> {
  const login = await beginLogin(h, options);
  return login.end(await walk(h, login.action, who, options.phone));
}

/** What the person types on the form: the country and personal code of their semantics identifier. */
export const codeOf = (a: TestAccount) => ({
  country: a.semanticsIdentifier.slice(3, 5),
  code: a.semanticsIdentifier.slice(6),
});
