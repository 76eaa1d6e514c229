// Kubeflow's shipped oauth2_proxy.cfg (copied unchanged from kubeflow/manifests, source in its header).
import { join } from 'node:path';
import { projectRoot } from '../../../src/paths.js';

export const KUBEFLOW_CFG = join(projectRoot, 'test/compat/oauth2-proxy/fixtures/kubeflow-oauth2_proxy.cfg');
