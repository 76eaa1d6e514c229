/**
 * What `npm run bench` measures: each scenario is one judge configuration plus one kind of check
 * request, driven over HTTP (wrk) or gRPC (h2load) exactly like its baseline. Growth pairs run the
 * same request against a small and a large store, rule set or key set.
 */
export type Proto = 'http' | 'grpc';

export interface Scenario {
  readonly name: string;
  readonly proto: Proto;
  /** Judge settings over the bench defaults (env names). */
  readonly env?: Readonly<Record<string, string>>;
  /** Config file content (rules, providers); `{{ISSUER}}` stands for the bench provider's issuer. */
  readonly yaml?: string;
  /** Hosts the checks are spread over, round-robin with the credentials (several providers: each its own host). */
  readonly hosts?: readonly string[];
  /** Sessions: real ones to create (cookies sent round-robin) and the total in the store. */
  readonly sessions?: { readonly real: number; readonly total: number };
  /** `session` cookies, `rs256`/`es256` bearer tokens (how many distinct), or nothing. */
  readonly credential: 'cookie' | 'rs256' | 'es256' | 'none';
  readonly distinct?: number;
  /** JWKS size (keys published; tokens signed with the last one). */
  readonly keys?: number;
  readonly path: string;
  /** A browser navigation (Accept: text/html). */
  readonly navigation?: boolean;
  /** What every answer must be: allow (HTTP 200 / gRPC OK) or the login redirect (302). */
  readonly expect: 'allow' | 'login';
  /**
   * Over HTTP, also measure bare `node:http` sending this scenario's reply verbatim (captured from
   * the judge): the part of the figure that is node's own cost of that answer.
   */
  readonly reference?: boolean;
  /** Growth pair this scenario belongs to, and whether it is the small or the large side. */
  readonly growth?: { readonly pair: string; readonly side: 'small' | 'large' };
  /**
   * Runs of a growth pair, alternating its sides (small, large, small, large …); each side's row is
   * its median run. For a pair whose target (≤ 5 %) is within the drift of one run after another.
   */
  readonly rounds?: number;
}

const redis = { SESSION_STORE_TYPE: 'redis' };
const noCache = { SESSION_CACHE_TTL: '0' };
/** Signed identity assertions (docs/identity.md "Signed identity assertions"): keys generated into the store, ES256. */
const assertion = { ASSERTION_HEADER: 'X-Identity-Assertion', ASSERTION_ISSUER: 'https://judge.bench.example/authservice' };

function both(s: Omit<Scenario, 'proto'>): Scenario[] {
  return [
    { ...s, proto: 'http' },
    { ...s, proto: 'grpc' },
  ];
}

function rules(n: number): string {
  const lines = ['authzRules:'];
  for (let i = 0; i < n - 1; i++) lines.push(`  - { match: { path: { prefix: /svc-${i} } }, allow: { groups: [team-${i}] } }`);
  lines.push('  - { match: { path: { prefix: /app } }, allow: { groups: [staff] } }');
  return lines.join('\n') + '\n';
}

/** `n` access rules each with a CEL `when:` condition (issue 20); the last one fits the benched path and holds. */
function conditionalRules(n: number): string {
  const lines = ['authzRules:'];
  for (let i = 0; i < n - 1; i++)
    lines.push(
      `  - { match: { path: { prefix: /svc-${i} } }, allow: { authenticated: true }, when: 'request.method == "GET" && "team-${i}" in identity.groups' }`,
    );
  lines.push(`  - { match: { path: { prefix: /app } }, allow: { authenticated: true }, when: 'request.method == "GET" && "staff" in identity.groups' }`);
  return lines.join('\n') + '\n';
}

/** `n` providers (`providers:`), each its own host, all at the bench provider (each with its own discovery and keys). */
function providers(n: number): string {
  const lines = ['providers:'];
  for (let i = 0; i < n; i++)
    lines.push(`  - { id: p${i}, issuer: "{{ISSUER}}", clientId: judge-client, clientSecret: judge-client-secret, hosts: [p${i}.bench.test] }`);
  return lines.join('\n') + '\n';
}
const providerHosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i}.bench.test`);

export const SCENARIOS: readonly Scenario[] = [
  ...both({
    name: 'cookie, SQLite (cached)',
    credential: 'cookie',
    sessions: { real: 1, total: 1000 },
    path: '/app/data',
    expect: 'allow',
    reference: true,
  }),
  ...both({
    name: 'cookie, Redis (cache miss: every check reads Redis)',
    credential: 'cookie',
    env: { ...redis, ...noCache },
    sessions: { real: 1, total: 1000 },
    path: '/app/data',
    expect: 'allow',
  }),
  ...both({ name: 'JWT bearer RS256 (cached)', credential: 'rs256', path: '/app/data', expect: 'allow' }),
  ...both({ name: 'JWT bearer ES256 (cached)', credential: 'es256', path: '/app/data', expect: 'allow' }),
  // The same checks with an assertion on every allow (issue 18: ≥ 0.85× the plain ones).
  ...both({
    name: 'cookie, SQLite (cached) + assertion',
    credential: 'cookie',
    env: assertion,
    sessions: { real: 1, total: 1000 },
    path: '/app/data',
    expect: 'allow',
  }),
  ...both({ name: 'JWT bearer ES256 (cached) + assertion', credential: 'es256', env: assertion, path: '/app/data', expect: 'allow' }),
  ...both({ name: 'skipped path', credential: 'none', env: { SKIP_AUTH_URLS: '/public/' }, path: '/public/logo.png', expect: 'allow', reference: true }),
  ...both({ name: 'denied: login redirect', credential: 'none', navigation: true, path: '/app/data', expect: 'login', reference: true }),
  // Growth: HTTP only (the judge's work per check is the same behind either front door).
  {
    name: '1 000 sessions (SQLite, no cache, 1 000 cookies)',
    proto: 'http',
    credential: 'cookie',
    env: noCache,
    sessions: { real: 1000, total: 1000 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'sessions', side: 'small' },
  },
  {
    name: '1 000 000 sessions (SQLite, no cache, 1 000 cookies)',
    proto: 'http',
    credential: 'cookie',
    env: noCache,
    sessions: { real: 1000, total: 1_000_000 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'sessions', side: 'large' },
  },
  {
    name: '10 authz rules (cookie, cached)',
    proto: 'http',
    credential: 'cookie',
    yaml: rules(10),
    sessions: { real: 1, total: 1 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'rules', side: 'small' },
  },
  {
    name: '1 000 authz rules (cookie, cached)',
    proto: 'http',
    credential: 'cookie',
    yaml: rules(1000),
    sessions: { real: 1, total: 1 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'rules', side: 'large' },
  },
  {
    name: '10 authz rules with CEL conditions (cookie, cached)',
    proto: 'http',
    credential: 'cookie',
    yaml: conditionalRules(10),
    sessions: { real: 1, total: 1 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'rules with conditions', side: 'small' },
  },
  {
    name: '1 000 authz rules with CEL conditions (cookie, cached)',
    proto: 'http',
    credential: 'cookie',
    yaml: conditionalRules(1000),
    sessions: { real: 1, total: 1 },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'rules with conditions', side: 'large' },
  },
  {
    name: '1 JWKS key (1 000 RS256 tokens)',
    proto: 'http',
    credential: 'rs256',
    distinct: 1000,
    keys: 1,
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'keys', side: 'small' },
  },
  {
    name: '50 JWKS keys (1 000 RS256 tokens)',
    proto: 'http',
    credential: 'rs256',
    distinct: 1000,
    keys: 50,
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'keys', side: 'large' },
  },
  // Traces (issue 20): the same cached bearer check with tracing off and with 1 % of traces sampled and
  // exported (OTLP/HTTP to a sink in the judge's process, see server.ts): ≤ 5 % throughput drop.
  {
    name: 'JWT bearer RS256 (cached), tracing off',
    proto: 'http',
    credential: 'rs256',
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'tracing', side: 'small' },
    rounds: 3,
  },
  {
    name: 'JWT bearer RS256 (cached), traces sampled at 1 %',
    proto: 'http',
    credential: 'rs256',
    env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' },
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'tracing', side: 'large' },
    rounds: 3,
  },
  {
    name: '1 provider (50 RS256 tokens)',
    proto: 'http',
    credential: 'rs256',
    distinct: 50,
    yaml: providers(1),
    hosts: providerHosts(1),
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'providers', side: 'small' },
  },
  {
    name: '50 providers (50 RS256 tokens, checks spread over their hosts)',
    proto: 'http',
    credential: 'rs256',
    distinct: 50,
    yaml: providers(50),
    hosts: providerHosts(50),
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'providers', side: 'large' },
  },
  // A burst of new identities: 1 000 tokens, each one a first assertion to sign (the p99 shows whether signing holds the loop).
  {
    name: '1 000 RS256 tokens, no assertion',
    proto: 'http',
    credential: 'rs256',
    distinct: 1000,
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'assertions', side: 'small' },
  },
  {
    name: '1 000 RS256 tokens + assertion (1 000 identities to sign)',
    proto: 'http',
    credential: 'rs256',
    distinct: 1000,
    env: assertion,
    path: '/app/data',
    expect: 'allow',
    growth: { pair: 'assertions', side: 'large' },
  },
];
