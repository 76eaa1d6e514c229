/**
 * The OIDC metadata gateway (`mode: metadata`), kube-oidc-gateway's job: republish the cluster's
 * `/.well-known/openid-configuration` and `/openid/v1/jwks`, fetched from the API server with the
 * service-account token (re-read on every fetch, so rotation is picked up) and the cluster CA, so
 * relying parties need no anonymous access to the API server.
 *
 * Exact paths only (query ignored), GET and HEAD (405 otherwise), 404 elsewhere. Each document is
 * cached (cache.ts) and served by engine/json-doc.ts (ETag, Cache-Control, Expires, 304). An
 * upstream failure — network, timeout, non-200, too large, not a JSON object — serves the last
 * copy while it is at most `maxStaleSeconds` past its freshness, with the lower stale `max-age`;
 * with no copy, 502 with a short body. `/healthz` (never touches the upstream) and `/readyz`
 * (refreshes both documents) are also served on the document port, as kube-oidc-gateway did;
 * `ready()` is the same refresh, for the runtime's health port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubeClient } from '../../kube/client.js';
import { fileCredentials, loadKubeCredentials, type KubeCredentials } from '../../kube/credentials.js';
import { jsonDocument, jsonDocumentOf, serveJsonDocument, type JsonDocument } from '../engine/json-doc.js';
import { DocumentCache, type Lookup } from './cache.js';
import { parseMetadataOptions, type MetadataOptions } from './options.js';
import type { ForwarderDeps, ModeDefinition, ModeHandler } from '../engine/mode.js';
import { BAD_GATEWAY, NOT_FOUND, UNAVAILABLE, writeReply, type HttpReply } from '../engine/reply.js';

export { metadataOptionsFromEnv, type MetadataOptions } from './options.js';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';

const TEXT = ['content-type', 'text/plain; charset=utf-8'] as const;
const METHOD_NOT_ALLOWED: HttpReply = { status: 405, headers: [TEXT, ['allow', 'GET, HEAD']], body: 'Method not allowed' };
const OK: HttpReply = { status: 200, headers: [TEXT, ['cache-control', 'no-store']], body: 'OK' };

function credentialsFor(o: MetadataOptions, deps: ForwarderDeps): KubeCredentials {
  if (o.kubeconfig !== '') {
    const c = loadKubeCredentials({ kubeconfig: o.kubeconfig, readFile: deps.readFile });
    if (c === undefined) throw new Error(`kubeconfig: ${o.kubeconfig} gives no credentials`);
    return c;
  }
  const read = (what: string, path: string): string => {
    try {
      return deps.readFile(path);
    } catch (e) {
      throw new Error(`${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  if (o.tokenFile !== '' && read('tokenFile', o.tokenFile).trim() === '') throw new Error(`tokenFile: ${o.tokenFile} is empty`);
  const ca = o.caFile === '' ? undefined : read('caFile', o.caFile);
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`caFile: ${o.caFile} holds no PEM certificate`);
  return fileCredentials(
    { source: 'in-cluster', server: o.upstream, ...(o.tokenFile !== '' ? { tokenPath: o.tokenFile } : {}), ...(ca !== undefined ? { ca } : {}) },
    { readFile: deps.readFile },
  );
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The handler; rejects (naming the option) when the credentials cannot be read. */
export function createMetadataHandler(o: MetadataOptions, deps: ForwarderDeps): ModeHandler {
  const kube = new KubeClient(credentialsFor(o, deps), { timeoutMs: o.upstreamTimeoutMs, maxBytes: o.maxBytes, userAgent: 'oidc-judge metadata' });
  const { clock, log } = deps;
  const fetchDoc = async (path: string): Promise<JsonDocument> => {
    const res = await kube.get(path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    if (!isObject(res.json)) throw new Error(`GET ${path} did not return a JSON object`);
    return o.prettyPrint ? jsonDocument(res.json, true) : jsonDocumentOf(res.body);
  };
  const cacheOptions = { ttlMs: o.cacheTtlSeconds * 1000, maxStaleMs: o.maxStaleSeconds * 1000 };
  const caches = new Map<string, DocumentCache>([DISCOVERY_PATH, JWKS_PATH].map((p) => [p, new DocumentCache(() => fetchDoc(p), clock, cacheOptions)]));
  const staleMaxAge = Math.min(o.staleClientCacheTtlSeconds, o.clientCacheTtlSeconds);

  const answer = (req: IncomingMessage, res: ServerResponse, path: string, r: Lookup): void => {
    if (r.kind === 'error') {
      log.warn({ path, error: r.error }, 'metadata document unavailable and no copy to serve');
      writeReply(res, BAD_GATEWAY, req.method);
      return;
    }
    if (r.kind === 'stale')
      log.warn({ path, error: r.error, ageSeconds: Math.round((clock.now() - r.doc.fetchedAtMs) / 1000) }, 'serving a stale metadata document');
    else log.debug({ path, cacheHit: r.hit }, 'metadata document');
    serveJsonDocument(req, res, {
      body: r.doc.body,
      etag: r.doc.etag,
      maxAgeSeconds: r.kind === 'fresh' ? o.clientCacheTtlSeconds : staleMaxAge,
      nowMs: clock.now(),
    });
  };

  const ready = async (): Promise<boolean> => {
    const results = await Promise.all([...caches.values()].map((c) => c.refresh()));
    return results.every((r) => r.kind === 'fresh');
  };
  const healthz = (req: IncomingMessage, res: ServerResponse): void => {
    writeReply(res, req.method === 'GET' || req.method === 'HEAD' ? OK : METHOD_NOT_ALLOWED, req.method);
  };
  const readyz = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return writeReply(res, METHOD_NOT_ALLOWED, req.method);
    ready().then(
      (ok) => writeReply(res, ok ? OK : UNAVAILABLE, req.method),
      () => writeReply(res, UNAVAILABLE, req.method),
    );
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === '/healthz') return healthz(req, res);
      if (path === '/readyz') return readyz(req, res);
      const cache = caches.get(path);
      if (cache === undefined) {
        log.debug({ path, method: req.method }, 'metadata gateway: no such document');
        return writeReply(res, NOT_FOUND, req.method);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return writeReply(res, METHOD_NOT_ALLOWED, req.method);
      cache.get().then(
        (r) => answer(req, res, path, r),
        () => writeReply(res, BAD_GATEWAY, req.method),
      );
    },
    ready,
    async close() {
      kube.close();
    },
  };
}

export const metadataMode: ModeDefinition<MetadataOptions> = {
  mode: 'metadata',
  parse: parseMetadataOptions,
  create: async (options, deps) => createMetadataHandler(options, deps),
};
