// The registry of adapter kinds: type name -> "validate config, then open" (as dex registers connectors).
// Each kind is one folder in providers/ named after what it talks to.
import type { AdapterFactory } from '../broker/adapter.ts';
import { factory as mock } from '../../providers/mock/index.ts';
import { factory as banklink } from '../../providers/banklink/index.ts';
import { factory as oidc } from '../../providers/oidc/index.ts';
import { factory as saml } from '../../providers/saml/index.ts';

export const ADAPTER_FACTORIES: ReadonlyMap<string, AdapterFactory> = new Map(
  [mock, banklink, oidc, saml].map((f) => [f.kind, f as AdapterFactory]),
);
