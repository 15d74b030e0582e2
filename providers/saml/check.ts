// What a SAML entry may not be: plain http towards the IdP in production, generated SP keys in
// production, or an IdP metadata file that does not verify. Each problem names its path in the entry.
import { readFileSync } from 'node:fs';
import type { AdapterCheckContext, AdapterDeps, AdapterProblem } from '../../src/broker/adapter.ts';
import { memoryLogger } from '../../src/logger.ts';
import type { SamlProviderConfig } from './config.ts';
import { MetadataIdpSource, errorDetail, fileLoader } from './idp-source.ts';

const https = (url: string | undefined) => url === undefined || url.startsWith('https://');

/** Options of a metadata source for this entry (no I/O beyond reading the configured signing certificates). */
export function metadataCommon(config: SamlProviderConfig, production: boolean, logger: AdapterDeps['logger']) {
  return {
    entityId: config.idp?.entity_id,
    signingCertificates: config.metadata_signing_certificates?.map((path) => readFileSync(path, 'utf8')),
    binding: config.binding,
    refreshMs: config.metadata_refresh_seconds * 1000,
    maxBytes: config.max_metadata_bytes,
    logger,
    production,
  };
}

/**
 * What production refuses in a SAML entry, with paths relative to it: plain http towards the IdP and
 * SP keys that would be generated. An `idp_metadata` file is read and verified here too (no network),
 * so `config check` refuses what `start` would; a `metadata_url` is only fetched once the gateway runs.
 */
export async function checkSaml(config: SamlProviderConfig, ctx: AdapterCheckContext): Promise<AdapterProblem[]> {
  const out: AdapterProblem[] = [];
  if (ctx.production) {
    if (!config.idp_metadata && !config.metadata_url && !https(config.idp?.sso_url))
      out.push({ path: ['idp', 'sso_url'], message: 'must be https in production' });
    if (config.metadata_url && !https(config.metadata_url))
      out.push({ path: ['metadata_url'], message: 'must be https in production' });
    for (const which of ['signing', 'encryption'] as const) {
      if (!config.sp[which])
        out.push({
          path: ['sp', which],
          message: 'key and certificate must be configured in production (generated keys are for development only)',
        });
    }
  }
  if (config.idp_metadata) {
    const loaded = await loadMetadataFile(config, config.idp_metadata, ctx.production, memoryLogger());
    if ('problem' in loaded) out.push(loaded.problem);
  }
  return out;
}

/** An `idp_metadata` file, read and verified now: the source, or the problem naming `idp_metadata`. */
export async function loadMetadataFile(
  config: SamlProviderConfig,
  file: string,
  production: boolean,
  logger: AdapterDeps['logger'],
): Promise<{ source: MetadataIdpSource } | { problem: AdapterProblem }> {
  const source = new MetadataIdpSource({
    ...metadataCommon(config, production, logger),
    origin: file,
    load: fileLoader(file),
    requireValidUntil: false,
  });
  try {
    await source.load();
    return { source };
  } catch (err) {
    return { problem: { path: ['idp_metadata'], message: `${file}: ${errorDetail(err)}` } };
  }
}
