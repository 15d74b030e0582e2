// Trusted-proxy entries (`10.0.0.5`, `10.0.0.0/8`, `2001:db8::/32`) read one way wherever they are judged.
// node:net's BlockList matches across families (an IPv4 peer is in `::/80`, as `::ffff:a.b.c.d`), which
// would let a harmless-looking IPv6 block take in every IPv4 peer; proxy-addr, behind Express's
// `trust proxy`, does not. Here an IPv4-mapped entry (`::ffff:10.0.0.0/104`) is the IPv4 block it names,
// and a peer is checked against the entries of its own family only.
import { BlockList, isIP } from 'node:net';

export interface AddressBlock {
  family: 4 | 6;
  address: string;
  /** prefix length; undefined for a single address */
  bits: number | undefined;
}

/** `::ffff:a00:1` (the WHATWG URL spelling of any mapped address) -> `10.0.0.1` */
function mappedIPv4(address: string): string | undefined {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const [high, low] = [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** An entry (already validated as an address or CIDR block) as the block it names. */
export function addressBlock(entry: string): AddressBlock {
  const [address = '', text] = entry.split('/');
  const bits = text === undefined ? undefined : Number(text);
  if (isIP(address) === 4) return { family: 4, address, bits };
  const v4 = bits === undefined || bits >= 96 ? mappedIPv4(address) : undefined;
  if (v4) return { family: 4, address: v4, bits: bits === undefined ? undefined : bits - 96 };
  return { family: 6, address, bits };
}

/** A peer's address as it is matched: an IPv4-mapped IPv6 peer (a dual-stack listener) is IPv4. */
export function peerAddress(remote: string | undefined): { address: string; family: 4 | 6 } | undefined {
  let address = remote ?? '';
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  const family = isIP(address);
  return family === 4 || family === 6 ? { address, family } : undefined;
}

/** Entries as one matcher that never matches a peer against the other family's entries. */
export function addressMatcher(entries: readonly string[]): (remote: string | undefined) => boolean {
  const lists = { 4: new BlockList(), 6: new BlockList() };
  for (const entry of entries) {
    const { family, address, bits } = addressBlock(entry);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) lists[family].addAddress(address, type);
    else lists[family].addSubnet(address, bits, type);
  }
  return (remote) => {
    const peer = peerAddress(remote);
    return peer !== undefined && lists[peer.family].check(peer.address, peer.family === 4 ? 'ipv4' : 'ipv6');
  };
}
