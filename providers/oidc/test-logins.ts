// Upstream OIDC logins as the gateway runs them, for the tests: begun at a broker in front of the
// adapter, logged in (or refused) at the test OP by its browser, and completed at the broker callback.
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import type { StartAction } from '../../src/broker/adapter.ts';
import type { Loa } from '../../src/identity/loa.ts';
import type { Broker } from '../../src/login/broker.ts';
import type { BrokerError } from '../../src/login/broker-error.ts';
import type { UiLocale } from '../../src/login/locale.ts';
import { brokerFor, TEST_BROWSER, type MemoryLogger } from '../../test/support/broker.ts';
import type { OidcAdapter } from './index.ts';
import { EIDAS, type LoginChoice, type TestOp } from './test-op/index.ts';

export interface OidcLoginOptions {
  /** the broker's callback URL (registered at the test OP) */
  callbackUrl: string;
  logger?: MemoryLogger;
  /** what the person does at the OP (default: logs in at eIDAS high) */
  choice?: LoginChoice;
  /** the level the service asks for (default: none asked) */
  acr?: Loa;
  /** the login's language (default lv) */
  locale?: UiLocale;
  /** rewrite the authorization response's parameters before the callback */
  edit?: (params: Record<string, string>) => void;
}

export interface OidcLoginEnd {
  /** the broker's result, or the BrokerError it threw */
  result: Awaited<ReturnType<Broker['complete']>> | BrokerError;
  audit: MemoryAuditLog;
}

/** One login through the broker: the identity or the BrokerError, and the audit log that recorded it. */
export async function loginAtTestOp(
  op: TestOp,
  adapter: OidcAdapter,
  options: OidcLoginOptions,
): Promise<OidcLoginEnd> {
  const { store, broker, audit } = brokerFor(adapter, {
    callbackUrl: options.callbackUrl,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    const { action } = await broker.begin({
      browser: TEST_BROWSER,
      uid: 'uid',
      clientId: 'svc',
      providerId: adapter.id,
      ...(options.acr ? { acr: options.acr } : {}),
      locale: options.locale ?? 'lv',
      correlationId: 'corr',
    });
    const back = await op.login(
      (action as Extract<StartAction, { type: 'redirect' }>).url,
      options.choice ?? { acr: EIDAS.high },
    );
    const params = Object.fromEntries(back.searchParams);
    options.edit?.(params);
    return { result: await broker.complete(adapter.id, params, 'GET', TEST_BROWSER), audit };
  } catch (err) {
    return { result: err as BrokerError, audit };
  } finally {
    await store.close();
  }
}
