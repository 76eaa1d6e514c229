/**
 * The one configuration error: every problem found in one pass (each naming the variable, flag or
 * `forwarders[i].key` it is about), thrown once. The judge's settings and the forwarder commands
 * both throw it; the composition root turns it into exit status 2.
 */
import { JudgeError } from '../errors.js';
import { redactUrlPasswords } from '../net/url-password.js';

export class ConfigError extends JudgeError<'config-invalid'> {
  /** `subject` names what was invalid in the message: `configuration`, `forwarder configuration`. */
  constructor(
    readonly problems: readonly string[],
    subject = 'configuration',
  ) {
    // A problem may quote a value (`got "…"`): a password inside a URL is not repeated.
    super('config-invalid', `invalid ${subject}:\n  - ${problems.map(redactUrlPasswords).join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The forwarder commands' configuration problems (blocks, oidc-proxy / kube-oidc-proxy / gateway options). */
export const forwarderConfigError = (problems: readonly string[]): ConfigError => new ConfigError(problems, 'forwarder configuration');
