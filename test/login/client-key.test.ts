// The address a per-address limit counts (src/login/client-key.ts; README `limits`: "IPv6 addresses count
// by their /64"): IPv4 as is, also when IPv4-mapped, IPv6 by its /64, the smallest block one subscriber
// is usually given. A subscriber rotating addresses inside its /64, or writing one address another way
// (compressed, expanded, upper case, with a zone id), must not get a fresh limit; and two subscribers in
// different /64s, or two IPv4 clients, must never share one, or one of them spends the other's limit.
import { clientKey } from '../../src/login/client-key.ts';

/** The keys of `addresses`, one per distinct key. */
const keysOf = (...addresses: string[]) => new Set(addresses.map(clientKey));

test('no address at all is counted as unknown', () => {
  expect(clientKey(undefined)).toBe('unknown');
  expect(clientKey('')).toBe('unknown');
});

test('an address forwarded with its port counts as the address', () => {
  expect(clientKey('198.51.100.7:40000')).toBe('198.51.100.7');
  expect(clientKey('[2001:db8:1:2::1]:443')).toBe('2001:db8:1:2::/64');
  expect(clientKey('[2001:db8:1:2::1]')).toBe('2001:db8:1:2::/64');
  expect(clientKey('[::ffff:198.51.100.7]:443')).toBe('198.51.100.7');
});

test('a value that is no address is counted as invalid, whatever it says', () => {
  expect(clientKey('not-an-ip-zzz')).toBe('invalid');
  expect(clientKey('198.51.100.7.evil')).toBe('invalid');
  expect(clientKey('::ffff:zz')).toBe('invalid');
});

test('an IPv4 address is its own key, and two IPv4 addresses are counted apart', () => {
  expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('192.0.2.2')).toBe('192.0.2.2');
  expect(clientKey('198.51.100.255')).toBe('198.51.100.255');
});

test('an IPv4-mapped IPv6 address (a dual-stack socket) is counted as its IPv4 address', () => {
  expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('::FFFF:192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('::ffff:192.0.2.2')).toBe('192.0.2.2');
});

test('an IPv4-mapped address in its other spellings (expanded, hexadecimal) is counted as its IPv4 address too', () => {
  // RFC 4291 2.2 and 2.5.5.2: one address, however written; a listed terminator's X-Forwarded-For reaches
  // the limits as written. Not so, every IPv4 client written this way would share one key
  expect(clientKey('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('0000:0000:0000:0000:0000:FFFF:192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('::ffff:c000:201')).toBe('192.0.2.1');
  expect(clientKey('::ffff:c000:202')).toBe('192.0.2.2');
});

test('two IPv6 addresses in one /64 share a key; the neighbouring /64s have keys of their own', () => {
  const home = [
    '2001:db8:1:2::1',
    '2001:db8:1:2::a',
    '2001:db8:1:2:ffff:ffff:ffff:ffff',
    '2001:db8:1:2:0:5efe:c000:201',
  ];
  expect(keysOf(...home).size).toBe(1);
  expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  for (const other of ['2001:db8:1:3::1', '2001:db8:1:1::1', '2001:db8:2:2::1', '2001:db9:1:2::1'])
    expect(clientKey(other)).not.toBe(clientKey(home[0]!));
  expect(keysOf('2001:db8:1:1::1', '2001:db8:1:2::1', '2001:db8:1:3::1').size).toBe(3);
});

test('one /64 written compressed, expanded, with leading zeros or in upper case is one key', () => {
  expect(
    keysOf(
      '2001:db8:1:2::a',
      '2001:db8:1:2:0:0:0:a',
      '2001:0db8:0001:0002:0000:0000:0000:000a',
      '2001:DB8:1:2::A',
      '2001:0DB8:0001:0002::000A',
    ).size,
  ).toBe(1);
});

test('the run of zeros "::" is expanded where it stands, whichever groups of the /64 it covers', () => {
  // 2001:db8:0:0::/64: the zeros inside the prefix, written out or folded into "::"
  expect(keysOf('2001:db8::1', '2001:db8:0:0:1::1', '2001:db8::', '2001:db8:0:0:ffff:ffff:ffff:ffff').size).toBe(1);
  expect(clientKey('2001:db8::1')).not.toBe(clientKey('2001:db8:0:1::1'));
  // "::" across the end of the prefix: 2001:db8:1:0::/64
  expect(keysOf('2001:db8:1::2:3', '2001:db8:1:0:ffff::', '2001:db8:1::').size).toBe(1);
  expect(clientKey('2001:db8:1::2:3')).not.toBe(clientKey('2001:db8:1:2::3'));
  // "::" at the start
  expect(keysOf('::1', '::', '0:0:0:0:0:0:0:1').size).toBe(1);
  expect(clientKey('::1')).not.toBe(clientKey('0:0:0:1::1'));
});

test('a zone id (fe80::1%eth0) does not make a key of its own', () => {
  expect(keysOf('fe80::1%eth0', 'fe80::1', 'fe80::2%eth1', 'FE80::3%ETH0', 'fe80:0:0:0:aaaa::1').size).toBe(1);
  expect(clientKey('fe80::1%eth0')).not.toBe(clientKey('fe80:0:0:1::1%eth0'));
});

test('no IPv6 /64 shares its key with an IPv4 address', () => {
  const v4 = ['192.0.2.1', '::ffff:192.0.2.1'].map(clientKey);
  for (const v6 of ['::1', '::', '::ffff:5', '2001:db8:1:2::c000:201', '64:ff9b:1::c000:201', '64:ff9b::1:0:0'])
    expect(v4).not.toContain(clientKey(v6));
});

test('an IPv4 client translated by the well-known NAT64 prefix (SIIT-DC) is counted as its IPv4 address', () => {
  // RFC 6052 / RFC 7755: every IPv4 client reaches an IPv6-only gateway as 64:ff9b::a.b.c.d; by /64 they
  // would all share one limit
  expect(clientKey('64:ff9b::192.0.2.1')).toBe('192.0.2.1');
  expect(clientKey('64:FF9B:0:0:0:0:c000:202')).toBe('192.0.2.2');
  expect(clientKey('64:ff9b::5')).toBe('0.0.0.5');
  expect(keysOf('64:ff9b::198.51.100.7', '64:ff9b::198.51.100.8').size).toBe(2);
});
