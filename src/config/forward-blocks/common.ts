/**
 * The keys every `forwarders:` block has, whatever its mode, one declaration each: read by
 * forward/runtime/blocks.ts, documented in docs/ by `npm run docs`.
 */
import { custom, mapping, section, str } from '../field.js';

export const commonBlock = section('every block', {
  mode: str('mode', '`verify`, `egress`, `kube` or `metadata` (one subsection each below).'),
  name: str('name', 'Used in logs and in `/readyz` answers; unique.', { optional: true, nonEmpty: true, defaultDoc: '`<mode>-<index>`' }),
  listen: str('listen', '`host:port`, `:port` (every interface), `[::1]:port` or `unix:/path/to.sock`.', {
    defaultDoc: '**required** (no implicit bind)',
  }),
  tls: mapping('tls', '`{ certFile, keyFile }` (PEM files): TLS 1.2 or later. Both or neither; never with `unix:`.', {
    optional: true,
    defaultDoc: 'none',
  }),
  socketMode: custom('socketMode', 'octal text', 'Permission of a unix socket; quote it (YAML reads `0755` as decimal) or write `0o755`.', {
    optional: true,
    defaultDoc: '`"0755"`',
  }),
});
