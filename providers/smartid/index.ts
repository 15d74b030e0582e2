// Adapter kind `smartid`: Smart-ID (SK ID Solutions) through its RP API v3, notification flow.
import type { AdapterCheckContext, AdapterFactory, AdapterProblem } from '../../src/broker/adapter.ts';
import { refuseUnchecked } from '../../src/registry/factory.ts';
import { readCertificates, SmartIdAdapter } from './adapter.ts';
import { smartIdSchema, type SmartIdConfig } from './config.ts';
import { smartIdDemoPeer } from './test-rp-api/demo.ts';

export { SmartIdAdapter } from './adapter.ts';
export { smartIdSchema, type SmartIdConfig } from './config.ts';

/** The certificates of a configured PEM file; undefined when it is absent (the schema's to report, or demo
 * material `start` creates later), [] when it holds none that parses. */
function certificatesIn(file: string): ReturnType<typeof readCertificates> | undefined {
  try {
    return readCertificates(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : [];
  }
}

/** What production refuses, CA files that hold no CA certificate, and pins that would pin nothing. */
export function checkSmartId(config: SmartIdConfig, ctx: AdapterCheckContext): AdapterProblem[] {
  const problems: AdapterProblem[] = [];
  config.ca_certificates.forEach((file, i) => {
    const certs = certificatesIn(file);
    if (certs && (!certs.length || certs.some((c) => !c.ca)))
      problems.push({ path: ['ca_certificates', i], message: 'must hold CA certificates only (the SK issuing CAs)' });
  });
  // a file without a CERTIFICATE block (a PUBLIC KEY, DER) would add no pin, and the channel would take any key
  config.pinned_certificates.forEach((file, i) => {
    if (certificatesIn(file)?.length === 0)
      problems.push({
        path: ['pinned_certificates', i],
        message:
          "must hold the RP API's TLS certificates as PEM (BEGIN CERTIFICATE): none found, nothing would be pinned",
      });
  });
  // pins are checked by the RP API's dedicated TLS channel, which the tls block (its CA) sets up
  if (config.pinned_certificates.length && !config.tls)
    problems.push({
      path: ['pinned_certificates'],
      message: "needs a tls block with the RP API's CA: without it the certificates would pin nothing",
    });
  if (!ctx.production) return problems;
  if (!config.url.startsWith('https:')) problems.push({ path: ['url'], message: 'must be https in production' });
  if (!config.tls) problems.push({ path: ['tls'], message: 'the RP API needs a tls block with its CA in production' });
  if (!config.pinned_certificates.length && !config.tls?.pins?.length)
    problems.push({
      path: ['pinned_certificates'],
      message: "the RP API's TLS certificates must be pinned in production (SK publishes them; keep old and new)",
    });
  if (config.environment === 'demo')
    problems.push({ path: ['environment'], message: "SK's demo environment is refused in production" });
  return problems;
}

export const factory: AdapterFactory<SmartIdConfig> = {
  kind: 'smartid',
  schema: smartIdSchema,
  // SK authenticates relying parties by source address and UUID, not client certificates: the RP API
  // channel is protected by pinning its TLS keys instead (required in production, see checkSmartId)
  backChannels: () => [],
  /** the RP API; an OCSP responder is plain http by design (RFC 6960: its answers are signed) */
  endpoints: (config) => [config.url],
  check: checkSmartId,
  demoPeer: smartIdDemoPeer,
  create: async (config, deps) => {
    await refuseUnchecked(factory, config, deps);
    return new SmartIdAdapter(config, deps);
  },
};
