// Which providers a service may use, and at which level. A provider is offered to a client when its
// standing in the VPM joining process allows it now (src/onboarding/standing.ts: production for every
// service, testing for `test: true` services only; updated while running when the registry changes), the
// client's `providers` list names it (no list: every provider) and it delivers at least the level the
// request asks for in acr_values (OpenID Connect Core 3.1.2.1). The one answer fills the selection page, accepts a choice or
// an idp_hint, and validates acr_values and idp_hint at the authorization endpoint.
import { isLoa, LOA_LEVELS, loaSatisfies, type Loa } from '../identity/loa.ts';
import type { ProviderGroup } from '../config/provider-base.ts';
import type { LocalizedText } from './locale.ts';

/** A provider as the selection page shows it. */
export interface ProviderChoice {
  id: string;
  name: LocalizedText;
  kind: 'bank' | 'eid';
  /** the selection page's group (banks, eID means, foreign eID through eIDAS) */
  group: ProviderGroup;
  /** the URL of its logo, served by the gateway */
  logo?: string | undefined;
}

/** A provider offered at this start, with the highest level it delivers. */
export interface OfferedProvider extends ProviderChoice {
  loa: Loa;
  /** at the testing stage: offered to `test: true` services only */
  testOnly?: boolean | undefined;
}

export interface ClientProviders {
  client_id: string;
  /** the provider ids this service may offer; absent: all */
  providers?: readonly string[] | undefined;
  /** a test service: also offered providers at the testing stage */
  test?: boolean | undefined;
}

/** First acr_values entry we know; requests name levels in preference order. */
export function requestedLoa(acrValues: unknown): Loa | undefined {
  if (typeof acrValues !== 'string') return undefined;
  return acrValues.split(' ').find(isLoa);
}

/** The service's max_age (OpenID Connect Core 3.1.2.1) in seconds, as the engine let it through (a whole
 * number; max_age=0 it turns into prompt=login and removes); undefined when absent. */
export function requestedMaxAge(maxAge: unknown): number | undefined {
  const seconds = typeof maxAge === 'string' || typeof maxAge === 'number' ? Number(maxAge) : Number.NaN;
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}

export class ProviderPolicy {
  private readonly clients: ReadonlyMap<string, ClientProviders>;
  private offered: readonly OfferedProvider[];

  constructor(clients: readonly ClientProviders[], offered: readonly OfferedProvider[]) {
    this.clients = new Map(clients.map((client) => [client.client_id, client]));
    this.offered = offered;
  }

  /** What is offered from now on (a registry change: a suspension, a resumption, a new stage). */
  update(offered: readonly OfferedProvider[]): void {
    this.offered = offered;
  }

  /** Every offered provider, whatever the client (the demo e-service lists them). */
  all(): readonly OfferedProvider[] {
    return this.offered;
  }

  /** The providers that may serve this client at this level, in display order. */
  providersFor(clientId: string, acr: Loa | undefined): OfferedProvider[] {
    const client = this.clients.get(clientId);
    if (!client) return [];
    return this.offered.filter(
      (p) =>
        (!p.testOnly || client.test === true) &&
        (!client.providers || client.providers.includes(p.id)) &&
        loaSatisfies(p.loa, acr),
    );
  }

  allows(clientId: string, providerId: string, acr: Loa | undefined): boolean {
    return this.providersFor(clientId, acr).some((p) => p.id === providerId);
  }

  /** Why acr_values cannot be served to this client (an invalid_request), or undefined when it can. */
  acrValuesProblem(clientId: string, acrValues: unknown): string | undefined {
    if (acrValues === undefined) return undefined;
    const requested = requestedLoa(acrValues);
    if (!requested) return `acr_values must name one of ${LOA_LEVELS.join(', ')}`;
    if (!this.providersFor(clientId, requested).length) return `no provider offers level ${requested} to this client`;
    return undefined;
  }

  /** Why idp_hint cannot be followed for this client at the requested level, or undefined when it can. */
  idpHintProblem(clientId: string, idpHint: unknown, acrValues: unknown): string | undefined {
    if (idpHint === undefined) return undefined;
    if (typeof idpHint === 'string' && this.allows(clientId, idpHint, requestedLoa(acrValues))) return undefined;
    return 'idp_hint names no provider available to this client at the requested level';
  }
}
