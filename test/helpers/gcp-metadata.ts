/**
 * A GCE/GKE metadata server double speaking the real wire shape of the identity endpoint:
 * `GET /computeMetadata/v1/instance/service-accounts/<sa>/identity?audience=<aud>[&format=full]`
 * requires `Metadata-Flavor: Google` (403 without, as the real server), a non-empty `audience`
 * (400), a known service account (`default` or the configured e-mail; 404 otherwise), and answers
 * the signed JWT as a plain-text body with `Metadata-Flavor: Google`. Tokens are RS256 with the
 * double's key (`jwks` to verify them), `iat`/`exp` from the given clock; `format=full` adds the
 * `google.compute_engine` block. `hold()` parks answers until `release()` (single-flight tests).
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import type { Clock } from '../../src/clock.js';

export interface MetadataRequest {
  readonly path: string;
  readonly audience: string | null;
  readonly format: string | null;
  readonly flavor: string | undefined;
}

export interface MetadataDouble {
  readonly url: string;
  readonly requests: MetadataRequest[];
  /** Identity tokens issued so far. */
  issued(): number;
  readonly jwks: JSONWebKeySet;
  readonly email: string;
  /** Status to answer identity requests with instead of a token (e.g. 500); undefined: normal. */
  failWith: number | undefined;
  /** Answer with this body instead of a token (e.g. not a JWT). */
  bodyOverride: string | undefined;
  hold(): void;
  release(): void;
  /** Resolves once `n` identity requests have arrived. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGcpMetadata(clock: Clock, lifetimeSeconds = 3600): Promise<MetadataDouble> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'gcp-test-key', alg: 'RS256', use: 'sig' };
  const email = 'egress-sa@project-1.iam.gserviceaccount.com';
  const requests: MetadataRequest[] = [];
  const parked: (() => void)[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let holding = false;
  let issued = 0;
  const sockets = new Set<Socket>();

  const text = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/text', 'metadata-flavor': 'Google' });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    const m = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/identity$/.exec(url.pathname);
    if (m === null) return text(res, 404, 'Not Found');
    const flavor = req.headersDistinct['metadata-flavor']?.join(', ');
    requests.push({ path: url.pathname, audience: url.searchParams.get('audience'), format: url.searchParams.get('format'), flavor });
    for (const w of waiters.filter((w) => requests.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (flavor !== 'Google') return text(res, 403, 'Missing required header "Metadata-Flavor": "Google"');
    const sa = decodeURIComponent(m[1]!);
    if (sa !== 'default' && sa !== email) return text(res, 404, 'Not Found');
    const audience = url.searchParams.get('audience') ?? '';
    if (audience === '') return text(res, 400, 'non-empty audience parameter required');
    const answer = async (): Promise<void> => {
      if (double.failWith !== undefined) return text(res, double.failWith, 'metadata failure');
      if (double.bodyOverride !== undefined) return text(res, 200, double.bodyOverride);
      const iat = Math.floor(clock.now() / 1000);
      const full = url.searchParams.get('format') === 'full';
      const claims: Record<string, unknown> = { azp: '1234567890', email, email_verified: true };
      if (full)
        claims['google'] = { compute_engine: { instance_id: '42', instance_name: 'vm-1', project_id: 'project-1', project_number: 1, zone: 'europe-west1-b' } };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
        .setIssuer('https://accounts.google.com')
        .setSubject('1234567890')
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetimeSeconds)
        .sign(privateKey);
      issued++;
      text(res, 200, token);
    };
    if (holding) parked.push(() => void answer());
    else void answer();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const double: MetadataDouble = {
    url: `http://127.0.0.1:${port}`,
    requests,
    issued: () => issued,
    jwks: { keys: [jwk] },
    email,
    failWith: undefined,
    bodyOverride: undefined,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const p of parked.splice(0)) p();
    },
    arrived(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return double;
}
