// RFC 8705 section 2.1.2: whether a client certificate's subject DN or a subjectAltName entry is the
// one registered for the client (tls_client_auth_subject_dn, tls_client_auth_san_*).
import type { X509Certificate } from 'node:crypto';

/** RFC 4514-ish DN string (`CN=demo-service,O=Demo Agency`) to attribute -> values, order-insensitive. */
function parseDn(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of dn.split(/(?<!\\)[,+]/)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const type = part.slice(0, eq).trim().toUpperCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/\\(.)/g, '$1');
    out.set(type, [...(out.get(type) ?? []), value].sort());
  }
  return out;
}

function subjectMap(cert: X509Certificate): Map<string, string[]> {
  const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[]>;
  const out = new Map<string, string[]>();
  for (const [type, value] of Object.entries(subject ?? {}))
    out.set(type.toUpperCase(), (Array.isArray(value) ? value : [value]).slice().sort());
  return out;
}

function sameDn(cert: X509Certificate, expected: string): boolean {
  const actual = subjectMap(cert);
  const wanted = parseDn(expected);
  if (actual.size !== wanted.size || actual.size === 0) return false;
  for (const [type, values] of wanted) if (JSON.stringify(actual.get(type)) !== JSON.stringify(values)) return false;
  return true;
}

function sanEntries(cert: X509Certificate, prefix: string): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith(prefix))
    .map((entry) => entry.slice(prefix.length));
}

/** Whether `cert` matches the client's registered `property` (a tls_client_auth_* metadata name). */
export function certificateSubjectMatches(cert: X509Certificate, property: string, expected: string): boolean {
  switch (property) {
    case 'tls_client_auth_subject_dn':
      return sameDn(cert, expected);
    case 'tls_client_auth_san_dns':
      return sanEntries(cert, 'DNS:').includes(expected);
    case 'tls_client_auth_san_uri':
      return sanEntries(cert, 'URI:').includes(expected);
    case 'tls_client_auth_san_email':
      return sanEntries(cert, 'email:').includes(expected);
    case 'tls_client_auth_san_ip':
      return cert.checkIP(expected) !== undefined;
    default:
      return false;
  }
}
