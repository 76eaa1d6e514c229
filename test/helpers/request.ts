import type { JudgeRequest } from '../../src/judge/request.js';

/** A JudgeRequest for unit tests: GET https://app.example.com<path> through gRPC, overridable. */
export function judgeRequest(path: string, more: Partial<JudgeRequest> = {}): JudgeRequest {
  return {
    method: 'GET',
    scheme: 'https',
    host: 'app.example.com',
    path,
    headers: {},
    peer: '10.0.0.1',
    requestId: 'test',
    denyStyle: 'redirect',
    via: 'grpc',
    ...more,
  };
}
