/**
 * The extra CA bundle (`CA_BUNDLE`) every outgoing HTTPS client of the service trusts, read once
 * per client at start-up; an unreadable file is a start-up error naming the setting.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';

export function caPem(config: Config): string | undefined {
  if (config.caBundle === '') return undefined;
  try {
    return readFileSync(config.caBundle, 'utf8');
  } catch (e) {
    throw new Error(`CA_BUNDLE: cannot read ${config.caBundle} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
