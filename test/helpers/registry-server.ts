/**
 * A jwtproxy key-registry double (quay/jwtproxy `keyserver/keyregistry` README), for the signer's
 * registry client. Per service (= issuer):
 *   GET    /services/<s>/keys          200 {"keys":[approved JWKs]} (also for unknown services)
 *   GET    /services/<s>/keys/<kid>    200 JWK + Cache-Control max-age / 409 pending / 403 expired / 404
 *   PUT    /services/<s>/keys/<kid>[?expiration=&rotation=]  body: public JWK; bearer JWT with header
 *          kid, iss = <s>, aud = the registry's origin; self-signed for a new key, or signed by an
 *          approved key (a rotation: that key is revoked once the new one is approved).
 *          202 new key pending (200 with `autoApprove`), 200 existing key replaced, 403 wrong signer, 400 otherwise
 *   DELETE /services/<s>/keys/<kid>    self-signed: 204; not self-signed: 403; otherwise 400
 * Every request is recorded (method, path, query, User-Agent, Content-Type, the bearer's kid).
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { systemClock, type Clock } from '../../src/clock.js';

export type KeyState = 'pending' | 'approved' | 'expired';

export interface StoredKey {
  jwk: JWK;
  state: KeyState;
  expiration?: string | null;
  rotation?: string | null;
  /** The approved key that signed this one's publication (a rotation). */
  rotatedFrom?: string;
}

export interface RegistryRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly userAgent: string | undefined;
  readonly contentType: string | undefined;
  readonly bearerKid: string | undefined;
  readonly status: number;
}

export interface RegistryDouble {
  readonly url: string;
  readonly origin: string;
  readonly requests: RegistryRequest[];
  /** Emits `request` (RegistryRequest) after each answer. */
  readonly events: EventEmitter;
  autoApprove: boolean;
  /** The time bearer tokens are checked at (default: the system clock). */
  clock: Clock;
  keys(service: string): Map<string, StoredKey>;
  approve(service: string, kid: string): void;
  expire(service: string, kid: string): void;
  /** Resolves with the next request matching `method` (and path prefix). */
  next(method: string, pathPrefix?: string): Promise<RegistryRequest>;
  close(): Promise<void>;
}

async function verifiedBy(token: string, jwk: JWK, service: string, origin: string, now: number): Promise<boolean> {
  try {
    await jwtVerify(token, await importJWK(jwk, 'RS256'), { issuer: service, audience: origin, algorithms: ['RS256'], currentDate: new Date(now) });
    return true;
  } catch {
    return false;
  }
}

export async function startRegistry(): Promise<RegistryDouble> {
  const services = new Map<string, Map<string, StoredKey>>();
  const requests: RegistryRequest[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const keysOf = (s: string): Map<string, StoredKey> => {
    let m = services.get(s);
    if (m === undefined) services.set(s, (m = new Map()));
    return m;
  };
  let origin = '';

  async function answer(
    req: IncomingMessage,
    body: string,
    url: URL,
    bearer: string | undefined,
    kidOfBearer: string | undefined,
  ): Promise<[number, Record<string, string>, string]> {
    const m = /^\/services\/([^/]+)\/keys(?:\/([^/]+))?$/.exec(url.pathname);
    if (m === null) return [404, {}, 'not found'];
    const service = decodeURIComponent(m[1]!);
    const kid = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const keys = keysOf(service);
    const json = { 'content-type': 'application/json' };
    if (req.method === 'GET' && kid === undefined)
      return [200, json, JSON.stringify({ keys: [...keys.values()].filter((k) => k.state === 'approved').map((k) => k.jwk) })];
    if (kid === undefined) return [405, {}, ''];
    const stored = keys.get(kid);
    if (req.method === 'GET') {
      if (stored === undefined) return [404, {}, ''];
      if (stored.state === 'pending') return [409, {}, ''];
      if (stored.state === 'expired') return [403, {}, ''];
      return [200, { ...json, 'cache-control': 'max-age=300' }, JSON.stringify(stored.jwk)];
    }
    if (bearer === undefined || kidOfBearer === undefined) return [400, {}, 'no bearer JWT with a kid'];
    if (req.method === 'DELETE') {
      if (kidOfBearer !== kid) return [403, {}, 'not self-signed'];
      if (stored === undefined || !(await verifiedBy(bearer, stored.jwk, service, origin, double.clock.now()))) return [400, {}, 'bad signature'];
      keys.delete(kid);
      return [204, {}, ''];
    }
    if (req.method !== 'PUT') return [405, {}, ''];
    let jwk: JWK;
    try {
      jwk = JSON.parse(body) as JWK;
    } catch {
      return [400, {}, 'body is not JSON'];
    }
    if (jwk.kty !== 'RSA' || jwk.kid !== kid || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return [400, {}, 'not an RSA JWK for this kid'];
    let rotatedFrom: string | undefined;
    if (kidOfBearer === kid) {
      if (!(await verifiedBy(bearer, jwk, service, origin, double.clock.now()))) return [403, {}, 'bad self-signature'];
    } else {
      const signer = keys.get(kidOfBearer);
      if (signer?.state !== 'approved' || !(await verifiedBy(bearer, signer.jwk, service, origin, double.clock.now())))
        return [403, {}, 'signer is not an approved key'];
      rotatedFrom = kidOfBearer;
    }
    const policy = { expiration: url.searchParams.get('expiration'), rotation: url.searchParams.get('rotation') };
    if (stored !== undefined) {
      keys.set(kid, { ...stored, jwk, ...policy });
      return [200, {}, ''];
    }
    keys.set(kid, { jwk, state: double.autoApprove ? 'approved' : 'pending', ...policy, ...(rotatedFrom !== undefined ? { rotatedFrom } : {}) });
    if (double.autoApprove && rotatedFrom !== undefined) keys.delete(rotatedFrom);
    return [double.autoApprove ? 200 : 202, {}, ''];
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const auth = req.headers.authorization;
      const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
      let kidOfBearer: string | undefined;
      try {
        kidOfBearer = bearer === undefined ? undefined : decodeProtectedHeader(bearer).kid;
      } catch {
        kidOfBearer = undefined;
      }
      void answer(req, Buffer.concat(chunks).toString('utf8'), url, bearer, kidOfBearer).then(([status, headers, body]) => {
        res.writeHead(status, headers);
        res.end(status === 204 ? undefined : body);
        const r: RegistryRequest = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.search,
          userAgent: req.headers['user-agent'],
          contentType: req.headers['content-type'],
          bearerKid: kidOfBearer,
          status,
        };
        requests.push(r);
        events.emit('request', r);
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const double: RegistryDouble = {
    url: origin,
    origin,
    requests,
    events,
    autoApprove: false,
    clock: systemClock,
    keys: keysOf,
    approve(service, kid) {
      const k = keysOf(service).get(kid);
      if (k === undefined) throw new Error(`no key ${kid}`);
      k.state = 'approved';
      if (k.rotatedFrom !== undefined) keysOf(service).delete(k.rotatedFrom);
    },
    expire(service, kid) {
      const k = keysOf(service).get(kid);
      if (k === undefined) throw new Error(`no key ${kid}`);
      k.state = 'expired';
    },
    next(method, pathPrefix = '') {
      return new Promise((resolve) => {
        const on = (r: RegistryRequest): void => {
          if (r.method !== method || !r.path.startsWith(pathPrefix)) return;
          events.off('request', on);
          resolve(r);
        };
        events.on('request', on);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return double;
}
