/**
 * The address a request came from, as access rules read it (`sources:`, `request.source` in
 * `when:`): the peer that sent it — for the gRPC door, the source address Envoy reports — unless
 * that peer is a trusted proxy (`TRUSTED_PROXIES`); then the `X-Forwarded-For` hops are read from
 * the right, skipping the trusted ones, and the first other address is the client. A client's own
 * `X-Forwarded-For` entries sit left of what its first trusted proxy appended, so it cannot choose
 * the answer.
 */
import type { TrustMatcher } from './cidr.js';

export function clientAddress(peer: string, forwardedFor: string | undefined, trust: TrustMatcher): string {
  if (forwardedFor === undefined || !trust.trusts(peer)) return peer;
  const hops = forwardedFor.split(',');
  let last = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (hop === '') continue;
    last = hop;
    if (!trust.trusts(hop)) return hop;
  }
  return last;
}
