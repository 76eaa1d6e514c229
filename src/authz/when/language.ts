/**
 * The language of an access rule's `when:` condition: CEL (the Common Expression Language of
 * Kubernetes, Envoy and Envoy Gateway) on `@marcbachmann/cel-js`, over two variables —
 * `request` (method, host, path, headers, source) and `identity` (user, groups, claims, method,
 * authenticator, provider) — and one function, `inCidr(address, range)`.
 *
 * Two environments: one with the variables' schemas, to type-check each condition at start-up
 * (a misspelt field or a string compared with an int is refused there, with the column), and one
 * that evaluates over plain maps (what a check builds; the schema environment converts every value
 * into a typed object and costs five times as much per evaluation).
 */
import { Environment } from '@marcbachmann/cel-js';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../net/cidr.js';

/** Parser limits, on top of ours in compile.ts (the library's own are the specification's minimums). */
const LIMITS = { maxAstNodes: 500, maxDepth: 32, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 };

export const REQUEST_FIELDS = { method: 'string', host: 'string', path: 'string', source: 'string', headers: 'map<string, string>' } as const;
export const IDENTITY_FIELDS = {
  user: 'string',
  groups: 'list<string>',
  claims: 'map<string, dyn>',
  method: 'string',
  authenticator: 'string',
  provider: 'string',
} as const;

const ranges = new Map<string, Cidr | null>();

/** `inCidr(address, range)`: whether an IPv4/IPv6 address is in a CIDR range; false for anything unparsable. */
function inCidr(address: string, range: string): boolean {
  let r = ranges.get(range);
  if (r === undefined) {
    r = parseCidr(range) ?? null;
    if (ranges.size < 1024) ranges.set(range, r);
  }
  const ip = parseIp(address);
  return r !== null && ip !== undefined && cidrContains(r, ip);
}

function withFunctions(env: Environment): Environment {
  return env.registerFunction('inCidr(string, string): bool', inCidr);
}

export const checkEnv: Environment = withFunctions(
  new Environment({ limits: LIMITS })
    .registerVariable({ name: 'request', schema: { ...REQUEST_FIELDS } })
    .registerVariable({ name: 'identity', schema: { ...IDENTITY_FIELDS } }),
);

export const runEnv: Environment = withFunctions(new Environment({ limits: LIMITS }).registerVariable('request', 'map').registerVariable('identity', 'map'));
