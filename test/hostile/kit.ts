/**
 * Tools for the hostile-input tests: raw JWS tokens with any header and payload (signed with a real
 * key, or not at all), one check judged through both front doors of the assembled service (HTTP
 * `http_service` and gRPC ext_authz) as a single verdict, and a leak detector that looks for
 * secrets in everything a test saw (answers and log lines).
 */
import assert from 'node:assert/strict';
import { KeyObject, sign } from 'node:crypto';
import type { Sent } from '../helpers/http-send.js';
import { optionValue, request, type CheckResponse, type Judged } from '../helpers/app.js';
import type { OpKey } from '../helpers/op.js';

export const API = { accept: 'application/json' } as const;
export const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
export const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, ...API });

/** A compact JWS with exactly this header and payload, signed by `key` (RS256 / ES256), or with `sig` as the signature part. */
export function rawJws(header: unknown, payload: unknown, key?: OpKey, sig = ''): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (!key) return `${input}.${sig}`;
  const k = KeyObject.from(key.privateKey);
  const s = key.alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), k);
  return `${input}.${s.toString('base64url')}`;
}

export interface Verdict {
  /** The HTTP front door's status, and the gRPC deny status (200 for an allow). */
  readonly http: number;
  readonly grpc: number;
  /** The challenge of a 401 (HTTP), if any. */
  readonly challenge: string | undefined;
  readonly user: string | undefined;
  readonly groups: string | undefined;
  /** Everything the client side saw, for leak checks. */
  readonly seen: string;
}

function grpcStatus(r: CheckResponse): number {
  return r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0);
}

/** Judges the same headers over HTTP (when `http` is true and the values are ASCII) and gRPC; both must agree. */
export async function judgeBoth(judge: Judged, headers: Readonly<Record<string, string>>, path = '/api/data', http = true): Promise<Verdict> {
  const g = await judge.grpc.check(path, headers);
  const grpc = grpcStatus(g);
  let h: Sent | undefined;
  if (http) h = await request(judge.app.ports.http, path, headers);
  const seen = JSON.stringify(g) + (h ? JSON.stringify(h.headers) + h.body : '');
  if (h) assert.equal(h.status, grpc, `HTTP ${h.status} but gRPC ${grpc} for ${path}`);
  return {
    http: h?.status ?? grpc,
    grpc,
    challenge: h ? (h.headers['www-authenticate'] as string | undefined) : optionValue(g.denied_response?.headers, 'www-authenticate'),
    user: optionValue(g.ok_response?.headers, 'kubeflow-userid'),
    groups: optionValue(g.ok_response?.headers, 'kubeflow-groups'),
    seen,
  };
}

/** Asserts that none of `secrets` (nor their signature parts, for JWTs) occurs in `text`. */
export function assertNoLeak(text: string, secrets: Iterable<string>, where: string): void {
  for (const s of secrets) {
    if (s.length < 12) continue;
    assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 12)}…)`);
    const sig = s.split('.')[2];
    if (sig && sig.length >= 16) assert.ok(!text.includes(sig), `${where} contains a token signature`);
  }
}
