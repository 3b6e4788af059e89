import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { SecretAccessEvent } from '../core/event.js';

/**
 * Where a call came from, reduced to what baselines can learn without drowning in addresses:
 * a class (inside the provider, a cloud's address pool, the public internet), a country, a network
 * prefix and the family of the client. A Lambda role calls from a new AWS address at every cold start;
 * classes and families stay put.
 */
export type NetClass = 'internal' | 'cloud' | 'public' | 'unknown';

export interface SourceInfo {
  readonly netClass: NetClass;
  /** ISO 3166 alpha-2 country of a public address (GeoLite2 data from `geoip-country`), or null. */
  readonly country: string | null;
  /** A coarse network key: `service`, `vpce`, `private`, `aws`, or a /16 (IPv4) or /32 (IPv6) prefix. */
  readonly network: string | null;
  /** Client family from the user agent: `lambda`, `ecs`, `aws-cli`, `boto`, `browser`, `azsdk-net`, ... */
  readonly uaFamily: string | null;
}

export interface NetworkOptions {
  /** Parsed AWS `ip-ranges.json` (https://ip-ranges.amazonaws.com/ip-ranges.json), when configured. */
  readonly awsRanges?: AwsRanges | undefined;
  /** Extra CIDRs to treat as inside (corporate egress, VPN). */
  readonly internalCidrs?: readonly string[] | undefined;
  /** Country lookup; by default the `geoip-country` database, loaded on first use (about 19 MB of memory). */
  readonly country?: ((ip: string, v4?: number) => string | null) | undefined;
}

interface Range {
  start: bigint;
  end: bigint;
}

/** Disjoint, sorted address ranges with a binary-search lookup. */
export class RangeSet {
  private readonly ranges: Range[];
  constructor(cidrs: readonly string[]) {
    const parsed = cidrs.map(parseCidr).filter((r): r is Range => r !== null);
    parsed.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: Range[] = [];
    for (const r of parsed) {
      const last = merged[merged.length - 1];
      if (last && r.start <= last.end + 1n) {
        if (r.end > last.end) last.end = r.end;
      } else merged.push({ ...r });
    }
    this.ranges = merged;
    // IPv4 ranges again as plain numbers: most lookups are IPv4, and BigInt costs several times more.
    this.v4 = merged
      .filter((r) => r.end < 2n ** 32n)
      .map((r) => ({ start: Number(r.start), end: Number(r.end) }));
  }
  private readonly v4: { start: number; end: number }[];
  get size(): number {
    return this.ranges.length;
  }
  has(ip: string): boolean {
    const v4 = ipv4Of(ip);
    if (v4 >= 0) return within(this.v4, v4);
    return isIP(ip) === 6 && this.hasV6(ip);
  }

  /** `has` for an IPv4 address already read as a number (see ipv4Of). */
  hasV4(value: number): boolean {
    return within(this.v4, value);
  }

  /** `has` for an address known to be IPv6. */
  hasV6(ip: string): boolean {
    const v = ipValue(ip);
    return v !== null && within(this.ranges, v);
  }
}

function within<T extends number | bigint>(ranges: readonly { start: T; end: T }[], v: T): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (v < r.start) hi = mid - 1;
    else if (v > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * An IPv4 address as a number, or -1 if `ip` is not one as Node's isIPv4 reads it (four decimal octets
 * of 0 to 255, no leading zeros): the common case read without isIP's regular expressions.
 */
export function ipv4Of(ip: string): number {
  const n = ip.length;
  if (n < 7 || n > 15) return -1;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? v * 256 + octet : -1;
}

export interface AwsRanges {
  readonly set: RangeSet;
}

// IPv6 values are offset so that they never collide with IPv4 values in one RangeSet.
const V6_OFFSET = 1n << 40n;

function ipValue(ip: string): bigint | null {
  const v4 = ipv4Of(ip);
  if (v4 >= 0) return BigInt(v4);
  if (isIP(ip) === 6) {
    if (ip.includes('.')) return null; // IPv4-mapped forms are rare in audit logs
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    let v = 0n;
    for (const g of groups) v = (v << 16n) + BigInt(Number.parseInt(g || '0', 16));
    return V6_OFFSET + v;
  }
  return null;
}

export function parseCidr(cidr: string): Range | null {
  const [addr, bitsText] = cidr.trim().split('/');
  if (!addr) return null;
  const kind = isIP(addr);
  if (!kind) return null;
  const width = kind === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return null;
  const v = ipValue(addr);
  if (v === null) return null;
  const base = kind === 4 ? v : v - V6_OFFSET;
  const host = (1n << BigInt(width - bits)) - 1n;
  const start = base & ~host;
  const off = kind === 4 ? 0n : V6_OFFSET;
  return { start: start + off, end: start + host + off };
}

/** RFC 1918, RFC 6598 (carrier-grade NAT), loopback, link-local, IPv6 unique local. */
const PRIVATE = new RangeSet([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  'fc00::/7',
  'fe80::/10',
  '::1/128',
]);

/** Reads a copy of AWS `ip-ranges.json`; an unreadable file is a config error. */
export function loadAwsIpRanges(path: string): AwsRanges {
  let doc: { prefixes?: { ip_prefix?: string }[]; ipv6_prefixes?: { ipv6_prefix?: string }[] };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('network.awsIpRanges', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const cidrs = [
    ...(doc.prefixes ?? []).map((p) => p.ip_prefix),
    ...(doc.ipv6_prefixes ?? []).map((p) => p.ipv6_prefix),
  ].filter((c): c is string => typeof c === 'string');
  if (cidrs.length === 0) throw new ConfigError('network.awsIpRanges', `${path} lists no prefixes`);
  return { set: new RangeSet(cidrs) };
}

let geoLookup: ((ip: string, v4: number) => string | null) | undefined;

/**
 * Country of a public address from the `geoip-country` package (GeoLite2), loaded once. `v4` is the
 * address as a number when it is IPv4 (see ipv4Of): it is then looked up in the package's IPv4 table
 * directly (GeoV4), which costs a fraction of the package's lookup of the text.
 */
export function geoCountry(ip: string, v4 = -1): string | null {
  if (!geoLookup) {
    const require = createRequire(import.meta.url);
    const geoip = require('geoip-country') as GeoIp;
    const byText = (a: string | number) => geoip.lookup(a)?.country ?? null;
    const table = GeoV4.load(require, geoip);
    geoLookup = table ? (a, n) => (n >= 0 ? table.country(n) : byText(a)) : (a, n) => byText(n >= 0 ? n : a);
  }
  return geoLookup(ip, v4);
}

interface GeoIp {
  lookup(ip: string | number): { country?: string } | null;
}

/**
 * The IPv4 ranges of the geoip-country package, read from its data file: records of 10 bytes (first
 * and last address, big-endian, and the country's two letters), sorted and disjoint. Used only when
 * the file is that and the package answers a sample of addresses the same (it may read other data:
 * GEOIP_DATADIR); otherwise the package's own lookup serves.
 */
export class GeoV4 {
  private readonly names = new Map<number, string>();

  private constructor(
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    private readonly codes: Uint16Array,
  ) {}

  static load(require: NodeRequire, geoip: GeoIp): GeoV4 | null {
    let bytes: Buffer;
    try {
      const dir = dirname(require.resolve('geoip-country/package.json'));
      bytes = readFileSync(join(dir, 'data', 'geoip-country.dat'));
    } catch {
      return null;
    }
    const n = bytes.length / 10;
    if (!Number.isInteger(n) || n === 0) return null;
    const starts = new Uint32Array(n);
    const ends = new Uint32Array(n);
    const codes = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      starts[i] = bytes.readUInt32BE(i * 10);
      ends[i] = bytes.readUInt32BE(i * 10 + 4);
      codes[i] = bytes.readUInt16BE(i * 10 + 8);
      if (ends[i]! < starts[i]! || (i > 0 && starts[i]! <= ends[i - 1]!)) return null;
    }
    const table = new GeoV4(starts, ends, codes);
    // The first, middle and last address of records across the table, and the gaps before them.
    for (let k = 0; k < 512; k++) {
      const i = Math.floor((k * (n - 1)) / 511);
      const probes = [starts[i]!, ends[i]!, Math.floor((starts[i]! + ends[i]!) / 2), starts[i]! - 1];
      for (const v of probes) {
        if (v < 0) continue;
        if (table.country(v) !== (geoip.lookup(v)?.country ?? null)) return null;
      }
    }
    return table;
  }

  country(v: number): string | null {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    // The last range starting at or before v.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    if (starts[lo]! > v || this.ends[lo]! < v) return null;
    const code = this.codes[lo]!;
    let name = this.names.get(code);
    if (name === undefined) {
      name = String.fromCharCode(code >> 8, code & 255);
      this.names.set(code, name);
    }
    return name;
  }
}

const SERVICE_HOST = /(^AWS Internal$)|(\.amazonaws\.com(\.cn)?$)/i;

/** Client family of a user agent: stable across versions, so a new family means a new client. */
export function uaFamily(ua: string | null | undefined): string | null {
  if (!ua) return null;
  const m = /exec-env\/(AWS_Lambda|AWS_ECS|AWS_EC2|CloudShell)/i.exec(ua);
  if (m) return m[1]!.toLowerCase().replace(/^aws_/, '');
  if (/^aws-cli\//i.test(ua)) return 'aws-cli';
  if (/boto3|botocore/i.test(ua)) return 'boto';
  if (/^aws-sdk-([a-z]+)/i.test(ua)) return `sdk-${/^aws-sdk-([a-z]+)/i.exec(ua)![1]!.toLowerCase()}`;
  if (/^aws-internal|AWS Internal/i.test(ua)) return 'aws-internal';
  if (/\.amazonaws\.com$/i.test(ua)) return 'service';
  if (/^azsdk-([a-z]+)/i.test(ua)) return `azsdk-${/^azsdk-([a-z]+)/i.exec(ua)![1]!.toLowerCase()}`;
  if (/terraform/i.test(ua)) return 'terraform';
  if (/^Mozilla\//.test(ua)) return 'browser';
  const first = /^([A-Za-z][A-Za-z0-9._-]*)/.exec(ua);
  return first ? first[1]!.toLowerCase().slice(0, 32) : 'other';
}

/** Kind of source → client → address → answer. */
type SourceCache = Map<string | null | undefined, Map<string | null | undefined, SourceInfo>>[];
const newSourceCache = (): SourceCache => [new Map(), new Map(), new Map(), new Map()];
/** Answers in each generation of the classifier's cache (two generations are kept). */
const SOURCE_CACHE_SIZE = 50_000;

/** Classifies the source of events; one instance per engine. */
export class NetworkClassifier {
  private readonly internal: RangeSet;
  private readonly aws: RangeSet | undefined;
  private readonly country: (ip: string, v4?: number) => string | null;

  constructor(options: NetworkOptions = {}) {
    this.internal = new RangeSet(options.internalCidrs ?? []);
    this.aws = options.awsRanges?.set;
    this.country = options.country ?? geoCountry;
  }

  /**
   * Answers by source: kind (through a service, through an endpoint) → client → address. A workload
   * repeats a few of them; nested maps, so no key text is built and hashed per event. Two generations:
   * when the current one is full it becomes the previous one, and an answer found there moves back to
   * the current one. Emptying one full cache would forget every address at once, and a working set a
   * little larger than it would then miss on every event.
   */
  private known: SourceCache = newSourceCache();
  private previous: SourceCache = newSourceCache();
  private knownCount = 0;

  classify(e: Pick<SecretAccessEvent, 'source'>): SourceInfo {
    const s = e.source;
    const kind = (s.viaService ? 2 : 0) + (s.vpcEndpointId ? 1 : 0);
    let byIp = this.known[kind]!.get(s.userAgent);
    let info = byIp?.get(s.ip);
    if (info !== undefined) return info;
    info = this.previous[kind]!.get(s.userAgent)?.get(s.ip) ?? this.classifyNew(e);
    if (++this.knownCount > SOURCE_CACHE_SIZE) {
      this.previous = this.known;
      this.known = newSourceCache();
      this.knownCount = 1;
      byIp = undefined;
    }
    if (byIp === undefined) this.known[kind]!.set(s.userAgent, (byIp = new Map()));
    byIp.set(s.ip, info);
    return info;
  }

  /** uaFamily by user agent: a workload has few clients, and its addresses are classified one by one. */
  private readonly families = new Map<string | null, string | null>();

  private family(ua: string | null): string | null {
    let f = this.families.get(ua);
    if (f === undefined) {
      f = uaFamily(ua);
      if (this.families.size >= 10_000) this.families.clear();
      this.families.set(ua, f);
    }
    return f;
  }

  private classifyNew(e: Pick<SecretAccessEvent, 'source'>): SourceInfo {
    const family = this.family(e.source.userAgent);
    const ip = e.source.ip;
    if (e.source.viaService || (ip && SERVICE_HOST.test(ip))) {
      return { netClass: 'internal', country: null, network: 'service', uaFamily: family };
    }
    if (e.source.vpcEndpointId)
      return { netClass: 'internal', country: null, network: 'vpce', uaFamily: family };
    // An IPv4 address is read once for every range it is looked up in.
    const v4 = ip ? ipv4Of(ip) : -1;
    const kind = v4 >= 0 ? 4 : ip && isIP(ip) === 6 ? 6 : 0;
    if (!ip || kind === 0) return { netClass: 'unknown', country: null, network: null, uaFamily: family };
    const has = (set: RangeSet) => (kind === 4 ? set.hasV4(v4) : set.hasV6(ip));
    if (has(PRIVATE) || has(this.internal)) {
      return { netClass: 'internal', country: null, network: 'private', uaFamily: family };
    }
    const country = this.country(ip, v4);
    if (this.aws && has(this.aws)) return { netClass: 'cloud', country, network: 'aws', uaFamily: family };
    return { netClass: 'public', country, network: prefix(ip, kind), uaFamily: family };
  }
}

/** The /16 of an IPv4 address, the /32 of an IPv6 one. */
function prefix(ip: string, kind: number): string {
  if (kind === 4) return `${ip.slice(0, ip.indexOf('.', ip.indexOf('.') + 1))}.0.0/16`;
  const g = ip.split(':');
  return `${g[0] || '0'}:${g[1] || '0'}::/32`;
}

/** Builds classifier options from the config file's `network` section (reads the ip-ranges copy once). */
export function networkOptions(config: {
  awsIpRanges?: string | undefined;
  internal?: readonly string[];
}): NetworkOptions {
  const internal = config.internal ?? [];
  internal.forEach((c, i) => {
    if (!parseCidr(c))
      throw new ConfigError(`network.internal.${i}`, `not a CIDR: "${c}" (e.g. 203.0.113.0/24)`);
  });
  return {
    internalCidrs: internal,
    awsRanges: config.awsIpRanges ? loadAwsIpRanges(config.awsIpRanges) : undefined,
  };
}
