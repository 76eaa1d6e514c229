/**
 * The checks fault tests send while they break the session store: a session cookie — of a known
 * session or of a well-formed id nobody issued — judged over the HTTP front door (Envoy
 * `http_service`) or over gRPC ext_authz, as an API client would. Each answer becomes an `Outcome`.
 */
import { Agent } from 'node:http';
import { newSecretId } from '../../src/sessions/ticket.js';
import { request, type Judged } from '../helpers/app.js';
import type { Probe } from '../helpers/load.js';

export const API = { accept: 'application/json' } as const;

export function cookieOf(id: string): Record<string, string> {
  return { cookie: `authservice_session=${id}`, ...API };
}

/**
 * Alternates HTTP and gRPC, and known and unknown sessions (one unknown every `unknownEvery`
 * checks). Labels: `known-http`, `known-grpc`, `unknown-http`, `unknown-grpc`.
 */
export function sessionProbe(judge: Judged, known: readonly string[], unknownEvery = 4): { probe: Probe; agent: Agent } {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const unknown = Array.from({ length: 8 }, () => newSecretId());
  const probe: Probe = async (w, seq) => {
    const isUnknown = seq % unknownEvery === unknownEvery - 1;
    const id = isUnknown ? unknown[seq % unknown.length]! : known[(w * 7 + seq) % known.length]!;
    const kind = isUnknown ? 'unknown' : 'known';
    if ((w + seq) % 2 === 0) {
      const r = await request(judge.app.ports.http, '/api/data', cookieOf(id), { agent });
      const sc = r.headers['set-cookie'] ?? [];
      return { label: `${kind}-http`, status: r.status, setCookie: sc };
    }
    const r = await judge.grpc.check('/api/data', cookieOf(id));
    if (r.status.code === 0) {
      const sc = (r.ok_response?.response_headers_to_add ?? []).filter((h) => h.header.key.toLowerCase() === 'set-cookie').map((h) => h.header.value);
      return { label: `${kind}-grpc`, status: 200, setCookie: sc };
    }
    const sc = (r.denied_response?.headers ?? []).filter((h) => h.header.key.toLowerCase() === 'set-cookie').map((h) => h.header.value);
    return { label: `${kind}-grpc`, status: r.denied_response?.status?.code ?? 0, setCookie: sc };
  };
  return { probe, agent };
}
