import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrContains, formatIp, invalidCidrs, isV4, parseCidr, parseIp, trustMatcher } from '../../src/net/cidr.js';

const ip = (s: string): string | undefined => {
  const b = parseIp(s);
  return b === undefined ? undefined : formatIp(b);
};

describe('parseIp', () => {
  it('reads IPv4 dotted quads as IPv4-mapped addresses', () => {
    assert.equal(ip('127.0.0.1'), '127.0.0.1');
    assert.equal(ip('255.255.255.255'), '255.255.255.255');
    assert.equal(ip('0.0.0.0'), '0.0.0.0');
    assert.ok(isV4(parseIp('10.1.2.3')!));
  });

  it('reads IPv6 in full, compressed and with an embedded IPv4 part', () => {
    assert.equal(ip('::1'), '0:0:0:0:0:0:0:1');
    assert.equal(ip('::'), '0:0:0:0:0:0:0:0');
    assert.equal(ip('2001:DB8::8:800:200C:417A'), '2001:db8:0:0:8:800:200c:417a');
    assert.equal(ip('fe80:0:0:0:0:0:0:1'), 'fe80:0:0:0:0:0:0:1');
    assert.equal(ip('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
    assert.equal(ip('::2:3:4:5:6:7:8'), '0:2:3:4:5:6:7:8');
    assert.equal(ip('64:ff9b::192.0.2.33'), '64:ff9b:0:0:0:0:c000:221');
    assert.equal(ip('0:0:0:0:0:0:1.2.3.4'), '0:0:0:0:0:0:102:304');
  });

  it('treats IPv4-mapped IPv6 (what a dual-stack socket reports) as the IPv4 address', () => {
    assert.equal(ip('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(ip('::FFFF:7f00:1'), '127.0.0.1');
    assert.equal(ip('0:0:0:0:0:ffff:10.0.0.1'), '10.0.0.1');
  });

  it('drops a zone id and brackets', () => {
    assert.equal(ip('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1');
    assert.equal(ip('[::1]'), '0:0:0:0:0:0:0:1');
  });

  it('rejects everything else', () => {
    for (const bad of [
      '',
      ' ',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.-1',
      '1.2.3.4/8',
      '1::2::3',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'g::1',
      '1.2.3.4::',
      '::1.2.3',
      '1:2:3:4:5:6:7',
      '::ffff:1.2.3.4.5',
      '0x7f.0.0.1',
    ]) {
      assert.equal(parseIp(bad), undefined, bad);
    }
  });
});

describe('parseCidr', () => {
  it('accepts addresses, IPv4 /0–32 and IPv6 /0–128, clearing host bits', () => {
    assert.deepEqual(parseCidr('10.1.2.3/8')?.bits, 104);
    assert.equal(formatIp(parseCidr('10.1.2.3/8')!.network), '10.0.0.0');
    assert.equal(parseCidr('10.1.2.3')?.bits, 128);
    assert.equal(parseCidr('::1/128')?.bits, 128);
    assert.equal(formatIp(parseCidr('2001:db8:ffff::/33')!.network), '2001:db8:8000:0:0:0:0:0');
    assert.equal(parseCidr(' 192.168.0.0/16 ')?.text, '192.168.0.0/16');
  });

  it('rejects bad prefixes and bad addresses', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '10.0.0.0/8/8', 'x/8', '/8', '10.0.0/8']) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
    assert.deepEqual(invalidCidrs(['127.0.0.1/8', 'nope', '::1/200']), ['nope', '::1/200']);
  });

  it('matches on the prefix bits only', () => {
    const r = parseCidr('192.168.4.0/22')!;
    assert.ok(cidrContains(r, parseIp('192.168.4.0')!));
    assert.ok(cidrContains(r, parseIp('192.168.7.255')!));
    assert.ok(!cidrContains(r, parseIp('192.168.8.0')!));
    assert.ok(!cidrContains(r, parseIp('192.168.3.255')!));
  });
});

describe('trustMatcher', () => {
  it('with the default TRUSTED_PROXIES trusts loopback in every spelling, nothing else', () => {
    const t = trustMatcher(['127.0.0.1/8', '::1/128']);
    for (const yes of ['127.0.0.1', '127.255.1.2', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.ok(t.trusts(yes), yes);
    for (const no of ['10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', '', undefined, 'garbage', '::127.0.0.1']) assert.ok(!t.trusts(no), String(no));
    // cached answers stay the same
    assert.ok(t.trusts('127.0.0.1'));
    assert.ok(!t.trusts('10.0.0.1'));
  });

  it('IPv4 ranges cover IPv4-mapped peers and mapped ranges cover IPv4 peers', () => {
    assert.ok(trustMatcher(['10.0.0.0/8']).trusts('::ffff:10.1.2.3'));
    assert.ok(trustMatcher(['::ffff:10.0.0.0/104']).trusts('10.1.2.3'));
    assert.ok(!trustMatcher(['::ffff:10.0.0.0/104']).trusts('11.1.2.3'));
  });

  it('0.0.0.0/0 covers every IPv4 peer but no native IPv6 one; ::/0 covers all', () => {
    const v4all = trustMatcher(['0.0.0.0/0']);
    assert.ok(v4all.trusts('203.0.113.9'));
    assert.ok(!v4all.trusts('2001:db8::1'));
    assert.ok(trustMatcher(['::/0']).trusts('203.0.113.9'));
  });

  it('an empty list trusts nobody', () => {
    assert.ok(!trustMatcher([]).trusts('127.0.0.1'));
  });

  it('throws naming every invalid entry', () => {
    assert.throws(() => trustMatcher(['127.0.0.1/8', 'proxy.local', '10.0.0.0/40']), /"proxy\.local", "10\.0\.0\.0\/40"/);
  });
});
