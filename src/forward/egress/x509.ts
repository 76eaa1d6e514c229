/**
 * Minting leaf certificates for the egress forward proxy's CONNECT interception: a small DER
 * encoder for one X.509 v3 TBSCertificate (subject CN, SAN dNSName/iPAddress, serverAuth,
 * CA:FALSE, a 128-bit serial from the CSPRNG), signed with the configured CA's key (RSA, EC or
 * Ed25519) by `crypto.sign`. Node can parse certificates but not create them; this is all the
 * ASN.1 the job needs, so no dependency is added for it.
 */
import { X509Certificate, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** A CA that signs leaf certificates. */
export interface CertificateAuthority {
  readonly cert: X509Certificate;
  readonly key: KeyObject;
  /** The CA's subject Name, DER, copied verbatim into each leaf's issuer. */
  readonly subjectDer: Buffer;
  readonly notAfter: Date;
}

// ---- DER writing ----

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const NULL = Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A positive INTEGER from big-endian bytes. */
function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, (b[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octets(value));
}

// ---- DER reading (just enough to copy the CA's subject) ----

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly body: number;
  readonly end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    body += n;
  }
  if (body + len > buf.length) throw new Error('truncated DER');
  return { tag, start: at, body, end: body + len };
}

/** The subject Name (DER) of a certificate: tbs → [version], serial, signature, issuer, validity, subject. */
function subjectOf(certDer: Buffer): Buffer {
  const tbs = readTlv(certDer, readTlv(certDer, 0).body);
  let f = readTlv(certDer, tbs.body);
  if (f.tag === 0xa0) f = readTlv(certDer, f.end);
  for (let i = 0; i < 4; i++) f = readTlv(certDer, f.end);
  return certDer.subarray(f.start, f.end);
}

// ---- the CA and the leaf ----

/** Loads and checks a CA certificate and its private key (PEM). Throws with a plain message. */
export function loadCertificateAuthority(certPem: string, keyPem: string): CertificateAuthority {
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (!cert.checkPrivateKey(key)) throw new Error('the CA key does not match the CA certificate');
  if (!cert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:TRUE is missing)');
  signatureAlgorithm(key);
  return { cert, key, subjectDer: subjectOf(cert.raw), notAfter: new Date(cert.validTo) };
}

function signatureAlgorithm(key: KeyObject): { readonly id: Buffer; readonly hash: string | null } {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { id: seq(oid('1.2.840.113549.1.1.11'), NULL), hash: 'sha256' };
  if (type === 'ed25519') return { id: seq(oid('1.3.101.112')), hash: null };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return { id: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' };
    if (curve === 'secp521r1') return { id: seq(oid('1.2.840.10045.4.3.4')), hash: 'sha512' };
    return { id: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
  }
  throw new Error(`CA key type ${type ?? 'unknown'} is not supported (RSA, EC or Ed25519)`);
}

export interface LeafOptions {
  /** A DNS name or an IP address (IPv6 without brackets). */
  readonly host: string;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function generalName(host: string): Buffer {
  const v = isIP(host);
  if (v === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
  if (v === 6) return tlv(0x87, ipv6Bytes(host));
  return tlv(0x82, Buffer.from(host, 'ascii'));
}

function ipv6Bytes(host: string): Buffer {
  // The URL parser normalises IPv6 (`[::ffff:1.2.3.4]` → `[::ffff:102:304]`), leaving only hex groups.
  const norm = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  const [head = '', tail] = norm.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return out;
}

/** A leaf certificate for `host`, issued by `ca`, as PEM. */
export function mintLeafCertificate(ca: CertificateAuthority, o: LeafOptions): string {
  const alg = signatureAlgorithm(ca.key);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const cn = o.host.length <= 64 ? seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(o.host, 'utf8'))))) : seq();
  const rsa = o.publicKey.asymmetricKeyType === 'rsa';
  const extensions = tlv(
    0xa3,
    seq(
      extension('2.5.29.19', true, seq()),
      // digitalSignature (+ keyEncipherment for RSA keys)
      extension('2.5.29.15', true, rsa ? Buffer.from([0x03, 0x02, 0x05, 0xa0]) : Buffer.from([0x03, 0x02, 0x07, 0x80])),
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.17', false, seq(generalName(o.host))),
    ),
  );
  const tbs = seq(
    tlv(0xa0, uint(Buffer.from([2]))),
    uint(serial),
    alg.id,
    ca.subjectDer,
    seq(time(o.notBefore), time(o.notAfter)),
    cn,
    o.publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign(alg.hash, tbs, ca.key);
  const der = seq(tbs, alg.id, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
