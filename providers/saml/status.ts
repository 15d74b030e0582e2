// SAML status codes -> the broker's error codes. eIDAS nodes report a user who cancels or refuses
// consent as Responder/RequestDenied with a status message ("Citizen consent not given."); plain SAML
// IdPs use AuthnFailed. Which messages mean "cancelled" is configurable per provider.
import { ProviderError } from '../../src/broker/adapter.ts';

const S = 'urn:oasis:names:tc:SAML:2.0:status:';

export interface SamlStatus {
  code: string;
  subCode?: string | undefined;
  message?: string | undefined;
}

export const DEFAULT_CANCEL_MESSAGES = ['consent not given', 'cancel'];

function short(uri: string | undefined): string {
  return uri ? uri.replace(S, '') : 'none';
}

/** The ProviderError for a non-success status; the detail carries codes only, never the IdP's free text. */
export function statusError(status: SamlStatus, cancelMessages: readonly string[]): ProviderError {
  const codes = `status ${short(status.code)}/${short(status.subCode)}`;
  const message = (status.message ?? '').toLowerCase();
  const cancelled = message !== '' && cancelMessages.some((m) => message.includes(m.toLowerCase()));
  switch (status.subCode) {
    case `${S}AuthnFailed`:
    case `${S}RequestDenied`:
      return cancelled
        ? new ProviderError('user_cancel', `${codes}: user cancelled`)
        : new ProviderError('access_denied', codes);
    case `${S}NoAuthnContext`:
      return new ProviderError('loa_too_low', codes);
    case `${S}NoPassive`:
    case `${S}UnknownPrincipal`:
      return new ProviderError('access_denied', codes);
  }
  if (cancelled) return new ProviderError('user_cancel', `${codes}: user cancelled`);
  switch (status.code) {
    case `${S}Responder`:
    case `${S}Requester`:
    case `${S}VersionMismatch`:
      // a Requester error means the IdP did not like our request: an operator problem, not the user's
      return new ProviderError('temporarily_unavailable', codes);
    default:
      return new ProviderError('invalid_response', `unknown ${codes}`);
  }
}
