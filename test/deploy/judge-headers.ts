/**
 * What the judge reads and sends, found from the code itself, so that the proxies' allow-lists in
 * istio/, examples/ and the chart can be compared with it:
 * - upstream: the identity header names for a configuration (compileIdentityHeaders);
 * - deny: every header name in a `[name, value]` pair of the judge's decisions (files of src/judge,
 *   src/oidc, src/authn and src/authz that deal in JudgeRequest or HeaderPair), minus
 *   x-envoy-auth-headers-to-remove, which Envoy consumes itself;
 * - request: every header those files read (`h['…']`, `headers['…']`, `header(req, '…')`, and the
 *   names in `…_HEADERS = ['…', …]` lists such as the method-override headers), except the front
 *   doors and their mappers, plus what the HTTP mapper reads in Envoy's mode.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { compileIdentityHeaders } from '../../src/judge/upstream/identity-headers.js';
import { STRIP_PREFIXES } from '../../src/judge/strip.js';
import { projectRoot } from '../../src/paths.js';

const DECISION_DIRS = ['src/judge', 'src/oidc', 'src/authn', 'src/authz'];

/** The judge's decision code: files that take a JudgeRequest or build HeaderPairs. */
function sources(): { file: string; text: string }[] {
  return DECISION_DIRS.flatMap((d) =>
    readdirSync(join(projectRoot, d))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: `${d}/${f}`, text: readFileSync(join(projectRoot, d, f), 'utf8') })),
  ).filter((s) => /\b(JudgeRequest|HeaderPair)\b/.test(s.text));
}

/** Front doors: they translate transports, their header reads are not the judge's. */
const FRONT_DOOR = (file: string): boolean => file.startsWith('src/judge/grpc/') || file.startsWith('src/judge/http/');

/** A configuration with every default and the given environment. */
export function configWith(env: Readonly<Record<string, string>> = {}): Config {
  return loadConfig({
    env: { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'c', CLIENT_SECRET: 's', ...env },
    readFile: (p) => readFileSync(p, 'utf8'),
  }).config;
}

/**
 * What the judge sets upstream: the identity headers (a preset's and the forwarded tokens' too),
 * and `cookie` (the client's Cookie without the judge's own cookies, when it had any).
 */
export function upstreamHeaders(config: Config = configWith()): string[] {
  return [
    ...compileIdentityHeaders({
      useridHeader: config.useridHeader,
      useridPrefix: config.useridPrefix,
      useridTransformers: config.useridTransformers,
      groupsHeader: config.groupsHeader,
      authMethodHeader: config.authMethodHeader,
      claimHeaders: config.claimHeaders,
      useridTokenHeader: config.useridTokenHeader,
      headerPreset: config.headerPreset,
      forwardIdTokenHeader: config.forwardIdTokenHeader,
      forwardAccessTokenHeader: config.forwardAccessTokenHeader,
    }).names,
    'cookie',
  ];
}

/** Names that can stand in a HeaderPair: a dash, or one of the few dashless response headers. */
const HEADERISH = (n: string): boolean => n.includes('-') || ['location', 'vary', 'link', 'refresh', 'expires', 'pragma', 'allow'].includes(n);
/** Envoy (HTTP mode) consumes this one itself; gRPC mode uses headers_to_remove. */
const ENVOY_OWN = new Set(['x-envoy-auth-headers-to-remove']);

/** `const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', …]`: lists of headers the code reads. */
const HEADER_LIST = /\b[A-Z][A-Z0-9_]*HEADERS\s*=\s*\[([^\]]*)\]/g;

export function denyHeaders(): string[] {
  const out = new Set<string>();
  for (const { text } of sources()) {
    for (const m of text.replace(HEADER_LIST, '').matchAll(/\[\s*'([a-z][a-z0-9-]*)',\s/g)) if (HEADERISH(m[1]!) && !ENVOY_OWN.has(m[1]!)) out.add(m[1]!);
  }
  return [...out].sort();
}

/** What the HTTP mapper reads in Envoy's (`http`) mode besides the request itself. */
const HTTP_MODE_READS = ['x-forwarded-proto', 'x-request-id'];
/** Always sent by Envoy (HTTP mode): not worth listing, and pseudo-headers cannot be. */
const ALWAYS_SENT = new Set(['host', ':authority', ':path', ':method', 'content-length']);

export function requestHeaders(config: Config = configWith()): string[] {
  const out = new Set<string>(HTTP_MODE_READS);
  for (const { file, text } of sources()) {
    if (FRONT_DOOR(file)) continue;
    for (const m of text.matchAll(/(?:\bh|headers)\['([a-z][a-z0-9-]*)'\]|header\(req, '([a-z][a-z0-9-]*)'\)/g)) out.add((m[1] ?? m[2])!);
    for (const list of text.matchAll(HEADER_LIST)) for (const m of list[1]!.matchAll(/'([a-z][a-z0-9-]*)'/g)) out.add(m[1]!);
  }
  out.add(config.authHeader.toLowerCase());
  out.add(config.idTokenHeader.toLowerCase());
  // The strip list's prefixes (`x-auth-request-*`, both spellings): removed only by the names seen.
  for (const p of STRIP_PREFIXES) for (const s of [p, p.replace(/-/g, '_')]) out.add(s);
  return [...out].filter((h) => !ALWAYS_SENT.has(h)).sort();
}
