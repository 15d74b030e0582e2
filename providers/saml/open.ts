// Opening a SAML adapter: the SP's keys, and the IdP as configured, read from a metadata file (which
// must be usable now) or fetched from a metadata URL over this provider's own mutual-TLS back channel.
import { readFileSync } from 'node:fs';
import { AdapterConfigError, refuseUnchecked, type AdapterDeps } from '../../src/registry/factory.ts';
import { createProviderTransport, type ProviderTransport } from '../../src/tls/transport.ts';
import { SamlAdapter } from './adapter.ts';
import { checkSaml, loadMetadataFile, metadataCommon } from './check.ts';
import type { SamlProviderConfig } from './config.ts';
import type { IdpDescription } from './idp-metadata.ts';
import {
  MetadataIdpSource,
  errorDetail,
  staticIdp,
  unexpiredSigning,
  urlLoader,
  type IdpSource,
} from './idp-source.ts';
import { spKeyPairs } from './sp.ts';

/** The IdP source of a provider entry; metadata files are read (and refused when expired) right away. */
async function idpSourceFor(
  config: SamlProviderConfig,
  deps: AdapterDeps,
): Promise<{ source: IdpSource; transport?: ProviderTransport }> {
  if (!config.idp_metadata && !config.metadata_url) {
    const idp = config.idp!;
    const description: IdpDescription = {
      entityId: idp.entity_id!,
      ssoUrls: { redirect: idp.sso_url!, post: idp.sso_url! },
      certificates: idp.certificates!.map((path) => readFileSync(path, 'utf8')),
    };
    return { source: staticIdp(description) };
  }
  if (config.idp_metadata) {
    // a file the operator put in place: it must be usable now, or the gateway does not start
    const loaded = await loadMetadataFile(config, config.idp_metadata, deps.production, deps.logger);
    if ('problem' in loaded) throw new AdapterConfigError(config.id, [loaded.problem]);
    return loaded;
  }
  const url = config.metadata_url!;
  // the back channel: this provider's own transport (mutual TLS with its `tls` block)
  const transport = createProviderTransport(config.id, config.tls);
  // fetched metadata must expire, or a captured copy could be replayed forever
  const source = new MetadataIdpSource({
    ...metadataCommon(config, deps.production, deps.logger),
    origin: url,
    load: urlLoader(url, transport.fetch, config.max_metadata_bytes, config.metadata_timeout_seconds * 1000),
    requireValidUntil: true,
  });
  try {
    await source.load();
  } catch (err) {
    // like OIDC discovery: an unreachable IdP does not stop the gateway; logins retry and fail closed meanwhile
    deps.logger.warn('SAML IdP metadata could not be loaded at startup; retried on the next login', {
      provider: config.id,
      origin: url,
      detail: errorDetail(err),
    });
  }
  return { source, transport };
}

export async function createSamlAdapter(config: SamlProviderConfig, deps: AdapterDeps): Promise<SamlAdapter> {
  // fail closed for callers that did not run the kind's check first (the metadata file is read below)
  await refuseUnchecked({ check: checkSaml }, config, deps, (problem) => problem.path[0] === 'idp_metadata');
  const keys = await spKeyPairs(config, deps);
  const { source, transport } = await idpSourceFor(config, deps);
  return new SamlAdapter(config, deps, keys, unexpiredSigning(source, deps.production), transport);
}
