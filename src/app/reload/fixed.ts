/**
 * The settings a running service cannot take without a restart: what its listeners were opened
 * with (addresses, ports, front-door paths, limits), the session store's connection (its type,
 * file, servers and credentials: the store is shared by every configuration), the process layout
 * the logger, and the identity assertion's signer (its JWKS is published by the web server). A reload that changes one of them is refused, naming them; everything else
 * (rules, skip rules, header settings, provider client settings, secrets, CA bundle, pages) is
 * taken by building a new judge.
 */
import { assertionSettings } from '../../config/schema-assertion.js';
import { schema, type Config } from '../../config/schema.js';

export const FIXED_SETTINGS: readonly (keyof Config)[] = [
  'serverHostname',
  'serverPort',
  'grpcPort',
  'webServerPort',
  'readinessProbePort',
  'ingressPort',
  'ingressUpstream',
  'workers',
  'drainTimeout',
  'httpHeadersTimeout',
  'httpRequestTimeout',
  'grpcMaxReceiveBytes',
  'httpMaxHeaderBytes',
  'trustedProxies',
  'authserviceUrlPrefix',
  'verifyAuthUrl',
  'forwardAuthUrl',
  'httpCheckPathPrefix',
  'compatEndpoints',
  'oidcProvider',
  'sessionStoreType',
  'sessionStorePath',
  'sessionStoreRedisAddr',
  'sessionStoreRedisPwd',
  'sessionStoreRedisDb',
  'sessionStoreRedisMode',
  'sessionStoreRedisUsername',
  'sessionStoreRedisSentinelMaster',
  'sessionStoreRedisSentinelPwd',
  'sessionStoreRedisTls',
  'sessionStoreRedisCa',
  'sessionStoreRedisKeyPrefix',
  'logLevel',
  'logFormat',
  // The web server publishes the assertion keys' JWKS from the start: a new signer would sign with keys it does not show.
  ...(Object.keys(assertionSettings) as (keyof Config)[]),
];

/** The fixed settings whose value differs between two configurations, by their variable names (`SERVER_PORT`). */
export function fixedChanges(running: Config, next: Config): string[] {
  return FIXED_SETTINGS.filter((k) => JSON.stringify(running[k]) !== JSON.stringify(next[k])).map(
    (k) => (schema as Record<string, { env?: string }>)[k]?.env ?? k,
  );
}
