import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wireValue } from '../../../src/net/wire.js';
import { start } from '../../helpers/http-judge.js';
import { send } from '../../helpers/http-send.js';

describe('HTTP front door: identity values beyond ASCII', () => {
  it('sends Unicode user names and groups as UTF-8 bytes instead of failing the check', async () => {
    const h = await start();
    h.decide = () => ({
      kind: 'allow',
      upstreamHeaders: [
        ['kubeflow-userid', 'José 李'],
        ['kubeflow-groups', 'équipe,团队'],
      ],
      removeHeaders: [],
      responseHeaders: [],
      reason: 'authenticated',
    });
    const r = await send(h.port, '/app');
    assert.equal(r.status, 200);
    // node's client decodes header bytes as Latin-1; turn them back into the UTF-8 they are
    assert.equal(Buffer.from(String(r.headers['kubeflow-userid']), 'latin1').toString('utf8'), 'José 李');
    assert.equal(Buffer.from(String(r.headers['kubeflow-groups']), 'latin1').toString('utf8'), 'équipe,团队');
    assert.equal(wireValue('plain'), 'plain');
  });
});
