// Outbound transport per provider: every back-channel HTTP call of an adapter goes through the fetch
// returned here. With a `tls` block it is a dedicated TLS client (see ./agent.ts): the provider's CA as the
// only trust anchor, and with `cert` and `key` mutual TLS (which production requires, see
// backChannelProblems in src/registry/factory.ts). No connection, session or certificate is ever shared
// between providers.
import { z } from 'zod';

export const tlsClientSchema = z
  .strictObject({
    /** PEM file of the provider's CA; replaces the default trust store */
    ca: z.string().min(1),
    /** PEM file of the gateway's client certificate for this provider (mutual TLS; with `key`) */
    cert: z.string().min(1).optional(),
    /** PEM file of the matching private key (with `cert`) */
    key: z.string().min(1).optional(),
    /** optional SHA-256 pins of the server's SubjectPublicKeyInfo, base64 */
    pins: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 digest')).optional(),
    /** TLS server name when it differs from the URL host */
    servername: z.string().optional(),
  })
  .superRefine((v, ctx) => {
    // only `ca` (server-authenticated TLS) or `ca`, `cert` and `key` (mutual TLS): never half a client identity
    if ((v.cert === undefined) !== (v.key === undefined)) {
      const missing = v.cert === undefined ? 'cert' : 'key';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `cert and key go together (mutual TLS); give ${missing} as well, or neither for server-authenticated TLS`,
      });
    }
  });

/** Whether a provider's `tls` block makes the gateway present a client certificate (mutual TLS). */
export function isMutualTls(config: TlsClientConfig | undefined): boolean {
  return config?.cert !== undefined && config.key !== undefined;
}

export type TlsClientConfig = z.infer<typeof tlsClientSchema>;

export interface ProviderTransport {
  fetch: typeof globalThis.fetch;
  close(): Promise<void>;
}

// The mutual-TLS implementation lives in ./agent.ts; re-exported so adapters import one module.
export { createProviderTransport, TlsPeerError } from './agent.ts';
export type { DedicatedTransport, PeerVerification, ProviderTransportOptions } from './agent.ts';
