/**
 * `oidc-judge login --device` (RFC 8628), for machines without a browser: asks the judge's
 * `<prefix>/api/device` for a user code, shows where to approve it, then polls the token endpoint
 * at the interval the judge gives (slower after `slow_down`) until the user approved or refused, or
 * the code expired.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { endpointsOf, OAuthError, postForm, tokenAnswer, type TokenAnswer } from './oauth.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceOptions {
  readonly url: string;
  readonly prefix: string;
  readonly clientName: string;
  /** Told where to approve and the code to check there. */
  readonly show: (verificationUri: string, userCode: string, complete: string | undefined) => void;
}

export async function deviceLogin(o: DeviceOptions): Promise<TokenAnswer> {
  const endpoints = endpointsOf(o.url, o.prefix);
  const start = await postForm(endpoints.device, { client_name: o.clientName });
  const deviceCode = start['device_code'];
  const userCode = start['user_code'];
  const uri = start['verification_uri'];
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof uri !== 'string')
    throw new OAuthError('invalid_response', 'the device authorization answer lacks a field', 200);
  const complete = typeof start['verification_uri_complete'] === 'string' ? start['verification_uri_complete'] : undefined;
  let interval = typeof start['interval'] === 'number' ? start['interval'] : 5;
  o.show(uri, userCode, complete);
  for (;;) {
    await delay(interval * 1000);
    try {
      return tokenAnswer(await postForm(endpoints.token, { grant_type: DEVICE_GRANT, device_code: deviceCode }));
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      if (e.error === 'authorization_pending') continue;
      if (e.error === 'slow_down') {
        interval += 5;
        continue;
      }
      throw e;
    }
  }
}
