import { describe, expect, it } from 'vitest';
import type { SecretAccessEvent } from '../../core/event.js';
import { NetworkClassifier, RangeSet } from '../../detectors/network.js';

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
