// The address a per-address limit counts (the rate limits of src/web/rate-limit.ts, the bound on audited
// token errors in ./engine-events.ts), in one place so both count an address alike.

/** The address a limit counts: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, the smallest block
 * one subscriber is usually given; rotating addresses inside it must not escape the limit. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4) return v4[1]!;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
