// The registry of adapter kinds: type name -> factory (config schema, capabilities, "open"). Each kind
// is one folder in providers/ named after what it talks to; this list is the only place in src/ that
// names them.
import type { AdapterFactory } from './factory.ts';
import { factory as mock } from '../../providers/mock/index.ts';
import { factory as banklink } from '../../providers/banklink/index.ts';
import { factory as oidc } from '../../providers/oidc/index.ts';
import { factory as saml } from '../../providers/saml/index.ts';
import { factory as smartid } from '../../providers/smartid/index.ts';

const KINDS: readonly AdapterFactory[] = [mock, oidc, saml, banklink, smartid];

export const ADAPTER_FACTORIES: ReadonlyMap<string, AdapterFactory> = new Map(KINDS.map((f) => [f.kind, f]));
