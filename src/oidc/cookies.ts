// The engine's cookie names. Over https the session cookie (Path=/, no Domain, Secure) carries the
// `__Host-` prefix (RFC 6265bis 4.1.3.2), so no sibling subdomain or plain-http page can set or shadow
// it. The interaction and resume cookies are scoped to `/interaction/<uid>` and `/auth/<uid>`, which
// `__Host-` forbids, so they keep `__Secure-` (Secure required, Path free).

export function cookieNames(issuer: string): { session: string; interaction: string; resume: string } {
  if (!issuer.startsWith('https://'))
    return { session: '_session', interaction: '_interaction', resume: '_interaction_resume' };
  return { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume' };
}
