// How a round trip with a provider fails (./broker.ts): the provider's own error codes and the broker's, with
// the login when its state was valid, so the service can still be told and the user shown the way back.
import type { ProviderError } from '../broker/adapter.ts';
import type { LoginRecord, LoginTrace } from './login-state.ts';

/** A failed round trip; `login` is known when the state was valid, so the relying party can be told. */
export class BrokerError extends Error {
  override name = 'BrokerError';
  readonly code:
    | ProviderError['code']
    | 'unknown_state'
    | 'unknown_provider'
    | 'oversized'
    | 'audit_unavailable'
    | 'other_browser'
    | 'resubmitted';
  readonly detail: string;
  readonly login: LoginRecord | undefined;
  /** without a live login: the one a replayed or replaced state belonged to (for the way back) */
  readonly spent: LoginTrace | undefined;
  /** the provider's own page already told the user why (ProviderError.userInformed) */
  readonly userInformed: boolean;
  constructor(
    code: BrokerError['code'],
    detail: string,
    login?: LoginRecord,
    spent?: LoginTrace,
    userInformed = false,
  ) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
    this.login = login;
    this.spent = spent;
    this.userInformed = userInformed;
  }
}
