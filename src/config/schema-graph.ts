/**
 * Microsoft Graph, asked for a user's groups when Entra ID left them out of the token (the group
 * "overage": `_claim_names`/`_claim_sources`, or `hasgroups`). Its own schema section so that the
 * access sections stay about the request.
 */
import { int, section, url } from './field.js';

export const graphSettings = {
  ...section('Entra ID group overage', {
    graphUrl: url(
      'GRAPH_URL',
      'Microsoft Graph base URL, asked for the groups of a user whose token says they did not fit (`_claim_names.groups`, `hasgroups`), with the session’s access token; the national clouds have their own (e.g. `https://graph.microsoft.us`).',
      { default: 'https://graph.microsoft.com' },
    ),
    graphMaxGroups: int(
      'GRAPH_MAX_GROUPS',
      'Most groups read from Graph for one user; a user in more cannot be judged (503), never judged on a partial list.',
      {
        default: 5000,
        min: 1,
        max: 100000,
      },
    ),
    graphMaxPages: int('GRAPH_MAX_PAGES', 'Most pages (`@odata.nextLink`) read from Graph for one user (999 groups a page).', {
      default: 10,
      min: 1,
      max: 1000,
    }),
    graphRetryInterval: int(
      'GRAPH_RETRY_INTERVAL',
      'Seconds before Graph is asked again for a session whose groups could not be read (checks answer 503 meanwhile); longer when Graph says `Retry-After`.',
      {
        default: 5,
        min: 1,
        max: 3600,
      },
    ),
  }),
};
