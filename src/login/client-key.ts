// The address a per-address limit counts (the rate limits of src/web/rate-limit.ts, the bound on audited
// token errors in ./engine-events.ts), in one place so both count an address alike.
import { isIPv4, isIPv6 } from 'node:net';

/** The address a limit counts: IPv4 as is (also when IPv4-mapped or NAT64-translated, however written),
 * IPv6 by its /64, the smallest block one subscriber is usually given; rotating addresses inside it must
 * not escape the limit. No address: `unknown`; anything else: `invalid`. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  // some terminators forward the client's port too (198.51.100.7:40000, [2001:db8::1]:443): the address counts
  const withoutPort =
    /^\[([^\]]+)\](?::\d{1,5})?$/.exec(ip)?.[1] ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(ip)?.[1] ?? ip;
  const address = withoutPort.split('%')[0]!; // a zone id names the interface, not the client
  if (isIPv4(address)) return address;
  // what a terminator in `proxy` forwarded without checking it: one shared key, or each made-up value
  // would be a limit of its own (and its text would reach the audit log)
  if (!isIPv6(address)) return 'invalid';
  // the URL serializer writes an IPv6 address one way only (RFC 5952: lower case, no leading zeros, the
  // longest run of zero groups as "::", an embedded IPv4 address in hexadecimal)
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  // IPv4-mapped (::ffff:0:0/96), or translated by the well-known NAT64 prefix (RFC 6052; 64:ff9b::/96), as
  // IPv4 clients reach an IPv6-only gateway through SIIT-DC (RFC 7755): the last 32 bits are the client
  const mapped =
    /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical) ??
    /^64:ff9b::(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const [high, low] = [Number.parseInt(mapped[1] ?? '0', 16), Number.parseInt(mapped[2]!, 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  const [head = '', tail = ''] = canonical.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = canonical.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups.slice(0, 4).join(':')}::/64`;
}
