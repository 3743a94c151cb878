import { BlockList } from 'node:net';
import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

// One address policy: only globally routable unicast addresses may be dialled for a customer. Everything else is
// refused: loopback, private, link-local (cloud metadata), site-local, CGNAT, multicast, broadcast, reserved,
// documentation and benchmark ranges, and IPv6 forms that embed an IPv4 address (NAT64, 6to4, Teredo,
// IPv4-compatible, IPv4-translated); an IPv4-mapped IPv6 address is judged by its IPv4 part.
const NOT_GLOBAL_V4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_GLOBAL_V4.addSubnet(net, prefix, 'ipv4');
}
// IPv6 global unicast is 2000::/3; within it, these are not routable to a customer.
const GLOBAL_V6 = new BlockList();
GLOBAL_V6.addSubnet('2000::', 3, 'ipv6');
const NOT_GLOBAL_V6 = new BlockList();
for (const [net, prefix] of [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4, which embeds an IPv4 address
  ['3fff::', 20], // documentation
] as const) {
  NOT_GLOBAL_V6.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address (either family, any notation ipaddr.js reads) is globally routable unicast. */
function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return isPublicAddress(v6.toIPv4Address().toString());
    const normal = v6.toNormalizedString();
    return GLOBAL_V6.check(normal, 'ipv6') && !NOT_GLOBAL_V6.check(normal, 'ipv6');
  }
  return !NOT_GLOBAL_V4.check(ip.toString(), 'ipv4');
}

/** An IP literal that is not globally routable; host names are judged after DNS instead. */
export function isPrivateAddress(address: string): boolean {
  return ipaddr.isValid(address) && !isPublicAddress(address);
}

/**
 * Whether a URL names this network by itself: `localhost` or a private IP literal. Names that resolve to private
 * addresses are caught after DNS by `publicOnlyLookup`; an IP literal skips DNS, so it is checked here.
 */
export function isPrivateUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup` for the HTTP agent that refuses private addresses, checked after resolution (no DNS rebinding). */
export function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) {
      const error: NodeJS.ErrnoException = new Error(`${hostname} resolves to a private address (${blocked.address})`);
      error.code = 'EPRIVATEADDRESS';
      return callback(error, []);
    }
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * The first address a URL's host is or resolves to that is not globally routable, checked when a webhook is set. A
 * name that does not resolve yet is let through: its attempts fail (and are retried) until it does, and every attempt
 * checks again after DNS.
 */
export async function privateAddressOf(
  url: string,
  lookup: (host: string) => Promise<{ address: string }[]> = (host) => dns.lookup(host, { all: true }),
): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isPrivateUrl(url)) return host;
  if (ipaddr.isValid(host)) return undefined;
  try {
    const addresses = await lookup(host);
    return addresses.find((a) => !isPublicAddress(a.address))?.address;
  } catch {
    return undefined;
  }
}
