import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { GeoV4, ipv4Of, NetworkClassifier, RangeSet } from '../../detectors/network.js';

describe('RangeSet', () => {
  const set = new RangeSet(['52.94.0.0/22', '52.95.0.0/16', '203.0.113.7/32', '2600:1f00::/24', 'nonsense']);

  it.each([
    ['52.94.0.0', true],
    ['52.94.3.255', true],
    ['52.94.4.0', false],
    ['52.93.255.255', false],
    ['52.95.128.1', true],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['255.255.255.255', false],
    ['0.0.0.0', false],
    ['2600:1f00::1', true],
    ['2600:1fff:ffff::', true],
    ['2600:2000::', false],
    ['::ffff:52.94.0.1', false],
    ['not an ip', false],
  ])('%s → %s', (ip, inside) => {
    expect(set.has(ip)).toBe(inside);
  });

  it('merges overlapping and adjacent ranges', () => {
    expect(new RangeSet(['10.0.0.0/9', '10.128.0.0/9', '10.1.0.0/16']).size).toBe(1);
  });
});

describe('NetworkClassifier', () => {
  const net = new NetworkClassifier({
    internalCidrs: ['198.51.100.0/24'],
    awsRanges: { set: new RangeSet(['52.94.0.0/22']) },
    country: (ip) => (ip.startsWith('81.') ? 'GB' : 'US'),
  });
  const at = (ip: string | null, extra: Partial<SecretAccessEvent['source']> = {}) =>
    net.classify({ source: { ip, userAgent: 'aws-cli/2.15.0 Python/3.11', viaService: null, ...extra } });

  it('classifies addresses by where they are, the same on every repeat', () => {
    for (let i = 0; i < 2; i++) {
      expect(at('10.1.2.3')).toMatchObject({ netClass: 'internal', network: 'private', uaFamily: 'aws-cli' });
      expect(at('198.51.100.9')).toMatchObject({ netClass: 'internal', network: 'private' });
      expect(at('52.94.1.2')).toMatchObject({ netClass: 'cloud', network: 'aws', country: 'US' });
      expect(at('81.2.69.160')).toMatchObject({ netClass: 'public', network: '81.2.0.0/16', country: 'GB' });
      expect(at('secretsmanager.amazonaws.com')).toMatchObject({ netClass: 'internal', network: 'service' });
      expect(at('10.1.2.3', { vpcEndpointId: 'vpce-1' })).toMatchObject({ network: 'vpce' });
      expect(at('81.2.69.160', { viaService: 'kms.amazonaws.com' })).toMatchObject({ network: 'service' });
      expect(at(null)).toMatchObject({ netClass: 'unknown', network: null });
      expect(at('fd00::1')).toMatchObject({ netClass: 'internal', network: 'private' });
      expect(at('2a00:1450::1')).toMatchObject({ netClass: 'public', network: '2a00:1450::/32' });
    }
  });

  it('keeps most of a working set of addresses a little larger than one cache generation', () => {
    let lookups = 0;
    const counting = new NetworkClassifier({
      country: () => {
        lookups++;
        return 'US';
      },
    });
    // 62,500 public addresses, each seen again after all the others, where one generation holds 50,000:
    // emptying a full cache would look every address up again on every pass.
    const ips = Array.from({ length: 62_500 }, (_, i) => `52.168.${i % 250}.${Math.floor(i / 250)}`);
    const pass = () => {
      const before = lookups;
      for (const ip of ips) counting.classify({ source: { ip, userAgent: 'app', viaService: null } });
      return lookups - before;
    };
    expect(pass()).toBe(ips.length);
    for (let i = 0; i < 3; i++) expect(pass()).toBeLessThanOrEqual(ips.length / 5);
    expect(counting.classify({ source: { ip: ips[0]!, userAgent: 'app', viaService: null } })).toMatchObject({
      netClass: 'public',
      country: 'US',
      network: '52.168.0.0/16',
    });
  });
});

describe('countries', () => {
  it('are what the geoip-country package says, IPv4 addresses passed to it as numbers', async () => {
    const { createRequire } = await import('node:module');
    const geoip = createRequire(import.meta.url)('geoip-country') as {
      lookup(ip: string): { country?: string } | null;
    };
    const net = new NetworkClassifier();
    const ips = ['8.8.8.8', '81.2.69.160', '1.1.1.1', '185.199.108.1', '203.0.113.9', '2a00:1450:4001::1'];
    // A spread of IPv4 addresses, so a number read wrongly lands in another country's range.
    for (let i = 1; i < 223; i += 3) ips.push(`${i}.${(i * 37) % 256}.${(i * 11) % 256}.${i % 250}`);
    const countries = new Set<string | null>();
    for (const ip of ips) {
      const expected = geoip.lookup(ip)?.country ?? null;
      const source = { ip, userAgent: null, viaService: null };
      const info = net.classify({ source });
      if (info.netClass === 'public' || info.netClass === 'cloud') {
        expect(info.country, ip).toBe(expected);
        countries.add(expected);
      }
    }
    expect(countries.size).toBeGreaterThan(10);
  });
});

describe('GeoV4', () => {
  it("reads the package's IPv4 table and answers as its lookup does", async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const geoip = require('geoip-country') as { lookup(ip: string | number): { country?: string } | null };
    const table = GeoV4.load(require, geoip);
    expect(table).not.toBeNull();
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      expect(table!.country(x), String(x)).toBe(geoip.lookup(x)?.country ?? null);
    }
    for (const v of [0, 1, 2 ** 32 - 1]) expect(table!.country(v)).toBe(geoip.lookup(v)?.country ?? null);
  });
});

describe('ipv4Of', () => {
  it('accepts exactly what isIPv4 accepts, with the value the octets make', () => {
    const parts = [
      '0',
      '1',
      '9',
      '10',
      '99',
      '100',
      '199',
      '200',
      '249',
      '250',
      '255',
      '256',
      '01',
      '001',
      '300',
      '',
      'a',
      '-1',
      ' 1',
      '1234',
    ];
    let x = 7;
    const pick = () => {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      return parts[x % parts.length]!;
    };
    const cases = [
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '::ffff:1.2.3.4',
      '0.0.0.0',
      '255.255.255.255',
    ];
    for (let i = 0; i < 5000; i++) cases.push(`${pick()}.${pick()}.${pick()}.${pick()}`);
    let valid = 0;
    for (const ip of cases) {
      const v = ipv4Of(ip);
      expect(v >= 0, ip).toBe(isIPv4(ip));
      if (v >= 0) {
        valid++;
        expect(v, ip).toBe(ip.split('.').reduce((a, o) => a * 256 + Number(o), 0));
      }
    }
    expect(valid).toBeGreaterThan(300);
  });
});
