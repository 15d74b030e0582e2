// Pairwise subject identifiers (OpenID Connect Core 8.1): an HMAC of the sector (or the client) and the
// public subject under the configured salt, so services of different sectors cannot link one person.
import { createHmac } from 'node:crypto';

export type PairwiseIdentifier = (
  ctx: unknown,
  sub: string,
  client: { sectorIdentifier?: string | undefined; clientId: string },
) => Promise<string>;

export function pairwiseIdentifier(salt: string): PairwiseIdentifier {
  return async (_ctx, sub, client) =>
    createHmac('sha256', salt)
      .update(`${client.sectorIdentifier ?? client.clientId}|${sub}`)
      .digest('base64url');
}
