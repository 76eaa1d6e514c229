// oidc-provider (devDependency, used by tests only) ships no type declarations; this is the small
// part of its API the test helpers use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** Koa's request handler (the Provider is the Koa app). */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export default Provider;
}

// The same class from its own module, without the entry point's runtime banner (src/demo/provider.ts).
declare module 'oidc-provider/lib/provider.js' {
  export { Provider } from 'oidc-provider';
}

// The interaction policy helpers from their own module (test/helpers/op-login.ts), for the same reason.
declare module 'oidc-provider/lib/helpers/interaction_policy/index.js' {
  export const base: unknown;
  export const Check: unknown;
}
