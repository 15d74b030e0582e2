// Outbound transport per provider: every back-channel HTTP call of an adapter goes through the fetch
// returned here. With a `tls` block it is a dedicated mutual-TLS client (see ./agent.ts); no connection,
// session or certificate is ever shared between providers.
import { z } from 'zod';

export const tlsClientSchema = z.strictObject({
  /** PEM file of the provider's CA; replaces the default trust store */
  ca: z.string().min(1),
  /** PEM file of the gateway's client certificate for this provider */
  cert: z.string().min(1),
  /** PEM file of the matching private key */
  key: z.string().min(1),
  /** optional SHA-256 pins of the server's SubjectPublicKeyInfo, base64 */
  pins: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 digest')).optional(),
  /** TLS server name when it differs from the URL host */
  servername: z.string().optional(),
});

export type TlsClientConfig = z.infer<typeof tlsClientSchema>;

export interface ProviderTransport {
  fetch: typeof globalThis.fetch;
  close(): Promise<void>;
}

// The mutual-TLS implementation lives in ./agent.ts; re-exported so adapters import one module.
export { createProviderTransport, TlsPeerError } from './agent.ts';
export type { DedicatedTransport, PeerVerification, ProviderTransportOptions } from './agent.ts';
