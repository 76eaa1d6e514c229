/**
 * A minimal HTTPS OpenID issuer for the Kubernetes proxy tests: discovery and a JWKS (one RS256
 * and one ES256 key) served on 127.0.0.1 with a certificate from a private test CA (so the proxy
 * must be given that CA), and tokens signed with jose. `down()` makes both documents answer 503.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { makeTlsFiles } from './redis.js';

export interface HttpsIssuer {
  readonly issuer: string;
  readonly caFile: string;
  readonly requests: string[];
  sign(claims: JWTPayload, alg?: 'RS256' | 'ES256'): Promise<string>;
  down(isDown: boolean): void;
  close(): Promise<void>;
}

export async function startHttpsIssuer(): Promise<HttpsIssuer> {
  const tls = await makeTlsFiles();
  const keys: Record<'RS256' | 'ES256', { privateKey: CryptoKey; kid: string }> = {} as never;
  const jwks: unknown[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-key`;
    keys[alg] = { privateKey, kid };
    jwks.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
  }
  const requests: string[] = [];
  let isDown = false;
  let issuer = '';
  const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (req, res) => {
    requests.push(req.url ?? '');
    const doc = req.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/keys` } : req.url === '/keys' ? { keys: jwks } : undefined;
    if (isDown || doc === undefined) return void res.writeHead(isDown ? 503 : 404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    caFile: tls.ca,
    requests,
    sign: (claims, alg = 'RS256') => new SignJWT({ iss: issuer, ...claims }).setProtectedHeader({ alg, kid: keys[alg].kid }).sign(keys[alg].privateKey),
    down: (d) => void (isDown = d),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      tls.cleanup();
    },
  };
}
