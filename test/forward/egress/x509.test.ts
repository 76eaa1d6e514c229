import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { loadCertificateAuthority, mintLeafCertificate, type CertificateAuthority } from '../../../src/forward/egress/x509.js';
import { makeCa, opensslVerify, type CaFiles } from './kit.js';

const HOUR = 3_600_000;

/** A TLS handshake to a server presenting `cert`/`key`, as a client trusting only `ca` and asking for `servername`. */
async function handshake(cert: string, key: string, ca: string, servername: string, host = '127.0.0.1'): Promise<string> {
  const server = createServer({ cert, key }, (s) => s.end('hello'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string>((resolve, reject) => {
      const s = connect({ host, port, ca, servername, ...(servername === '' ? { checkServerIdentity: () => undefined } : {}) });
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
  } finally {
    server.close();
  }
}

for (const type of ['rsa', 'ec', 'ed25519'] as const) {
  describe(`x509 leaf minting with a ${type} CA`, () => {
    let files: CaFiles;
    let ca: CertificateAuthority;
    const leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    before(async () => {
      files = await makeCa(type);
      ca = loadCertificateAuthority(files.certPem, readFileSync(files.keyFile, 'utf8'));
    });
    after(() => files.cleanup());

    const mint = (host: string): string =>
      mintLeafCertificate(ca, { host, publicKey: leafKeys.publicKey, notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + 24 * HOUR) });

    it('mints a certificate Node parses, signed by the CA, for the DNS name', () => {
      const leaf = new X509Certificate(mint('api.example.com'));
      assert.equal(leaf.verify(ca.cert.publicKey), true);
      assert.equal(leaf.checkIssued(ca.cert), true);
      assert.equal(leaf.issuer, ca.cert.subject);
      assert.equal(leaf.subject, 'CN=api.example.com');
      assert.equal(leaf.subjectAltName, 'DNS:api.example.com');
      assert.equal(leaf.checkHost('api.example.com'), 'api.example.com');
      assert.equal(leaf.checkHost('other.example.com'), undefined);
      assert.equal(leaf.ca, false);
      assert.equal(leaf.publicKey.equals(leafKeys.publicKey), true);
      assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    });

    it('uses a fresh 128-bit positive serial each time', () => {
      const a = new X509Certificate(mint('a.example')).serialNumber;
      const b = new X509Certificate(mint('a.example')).serialNumber;
      assert.notEqual(a, b);
      assert.ok(a.length >= 30 && a.length <= 32, a);
    });

    it('puts IPv4 and IPv6 addresses in iPAddress SAN entries', () => {
      const v4 = new X509Certificate(mint('127.0.0.1'));
      assert.equal(v4.checkIP('127.0.0.1'), '127.0.0.1');
      const v6 = new X509Certificate(mint('2001:db8::1'));
      assert.equal(v6.checkIP('2001:db8::1'), '2001:db8::1');
      assert.equal(v6.checkIP('2001:db8::2'), undefined);
    });

    it('passes `openssl verify -purpose sslserver` against the CA', async () => {
      assert.match(await opensslVerify(files.certFile, mint('svc.internal')), /OK/);
    });

    it('carries a real TLS handshake for a client that trusts only the CA', async () => {
      const pem = mint('localhost');
      const keyPem = leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      assert.equal(await handshake(pem, keyPem, files.certPem, 'localhost'), 'hello');
      await assert.rejects(handshake(pem, keyPem, files.certPem, 'elsewhere.example'), /altnames|Hostname/i);
      await assert.rejects(handshake(pem, keyPem, files.serverCert, 'localhost'), /self.signed|unable to (get|verify)/i);
    });

    it('encodes validity as UTCTime before 2050 and GeneralizedTime after', () => {
      const late = new X509Certificate(
        mintLeafCertificate(ca, {
          host: 'x.example',
          publicKey: leafKeys.publicKey,
          notBefore: new Date(Date.UTC(2049, 11, 31)),
          notAfter: new Date(Date.UTC(2051, 0, 2, 3, 4, 5)),
        }),
      );
      assert.equal(new Date(late.validFrom).toISOString(), '2049-12-31T00:00:00.000Z');
      assert.equal(new Date(late.validTo).toISOString(), '2051-01-02T03:04:05.000Z');
    });
  });
}

describe('loading the CA', () => {
  let files: CaFiles;
  let other: CaFiles;
  before(async () => {
    files = await makeCa('ec');
    other = await makeCa('ec', 'other CA');
  });
  after(() => {
    files.cleanup();
    other.cleanup();
  });

  it('refuses a key that does not belong to the certificate', () => {
    assert.throws(() => loadCertificateAuthority(files.certPem, readFileSync(other.keyFile, 'utf8')), /does not match/);
  });

  it('refuses a certificate that is not a CA', () => {
    assert.throws(() => loadCertificateAuthority(files.serverCert, files.serverKey), /not a CA/);
  });

  it('keeps the CA expiry for clamping leaves', () => {
    const ca = loadCertificateAuthority(files.certPem, readFileSync(files.keyFile, 'utf8'));
    assert.ok(ca.notAfter.getTime() > Date.now() && ca.notAfter.getTime() < Date.now() + 3 * 24 * HOUR);
  });
});
