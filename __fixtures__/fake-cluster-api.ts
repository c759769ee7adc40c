// Unit-test fakes of the Kubernetes calls (ClusterApi, TokenApi): no cluster here.
import { jest } from '@jest/globals'
import { ApiException, type V1Secret } from '@kubernetes/client-node'
import type { ClusterApi, IssuedToken } from '../src/core/kube/cluster-api.js'
import type { TokenApi } from '../src/core/kube/token-api.js'
import { SERVER } from './tokens.js'

export interface KubeStatusBody {
  message?: string
  reason?: string
  details?: { name?: string; kind?: string; group?: string }
}

/**
 * An error as @kubernetes/client-node throws it for a non-2xx answer: the
 * Status object as a JSON string body, and the response headers (its message
 * dumps both, which the action must never pass through).
 */
export function apiException(
  code: number,
  status: KubeStatusBody = {}
): ApiException<string> {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code,
    ...status
  })
  return new ApiException<string>(code, 'Unknown API Status Code!', body, {
    'audit-id': 'c0ffee00-0000-4000-8000-000000000000',
    'content-type': 'application/json',
    date: 'Sat, 22 Nov 2025 22:00:00 GMT'
  })
}

/** The Status a kube-apiserver returns when RBAC denies `verb` on `resource`. */
export function forbidden(
  user: string,
  verb: string,
  resource: string,
  namespace: string,
  name = ''
): ApiException<string> {
  const plural = resource.split('/')[0] ?? resource
  return apiException(403, {
    reason: 'Forbidden',
    message:
      `${plural} "${name}" is forbidden: User "${user}" cannot ${verb} ` +
      `resource "${resource}" in API group "" in the namespace "${namespace}"`,
    details: { name, kind: plural }
  })
}

/** The system call Node names on its socket errors, by code. */
const SYSCALL: Record<string, string> = {
  ECONNREFUSED: 'connect',
  ENOTFOUND: 'getaddrinfo',
  EAI_AGAIN: 'getaddrinfo',
  ECONNRESET: 'read',
  ETIMEDOUT: 'read',
  EPIPE: 'write'
}

/**
 * A socket or TLS failure the way node:https (the Kubernetes transport)
 * reports it: the code, and for socket errors the syscall, on the error
 * itself. `syscall` overrides the usual one ('connect' for a connect that
 * timed out, say).
 */
export function socketError(code: string, syscall = SYSCALL[code]): Error {
  const error = new Error(syscall ? `${syscall} ${code}` : code)
  return Object.assign(error, syscall ? { code, syscall } : { code })
}

type CreateSecret = ClusterApi['createSecret']
type DeleteSecret = ClusterApi['deleteSecret']
type RequestToken = ClusterApi['requestToken']

export interface FakeClusterApi extends ClusterApi {
  server: string
  createSecret: jest.Mock<CreateSecret>
  deleteSecret: jest.Mock<DeleteSecret>
  requestToken: jest.Mock<RequestToken>
}

export const SECRET_UID = '5d8a1a4e-2f4b-4c7e-9a51-0c1d2e3f4a5b'

/**
 * A ClusterApi double. createSecret echoes the Secret with a uid, deleteSecret
 * reports 'deleted', requestToken must be set by each test.
 */
export function fakeClusterApi(server = SERVER): FakeClusterApi {
  return {
    server,
    createSecret: jest.fn<CreateSecret>(async (_namespace, body) =>
      created(body)
    ),
    deleteSecret: jest.fn<DeleteSecret>(async () => 'deleted'),
    requestToken: jest.fn<RequestToken>(async () => {
      throw new Error('requestToken was not set up by the test')
    })
  }
}

/** The Secret as the API server returns it after creating it: with a uid. */
export function created(body: V1Secret, uid = SECRET_UID): V1Secret {
  return {
    apiVersion: body.apiVersion,
    kind: body.kind,
    type: body.type,
    immutable: body.immutable,
    metadata: {
      name: body.metadata?.name,
      namespace: body.metadata?.namespace,
      labels: body.metadata?.labels,
      annotations: body.metadata?.annotations,
      uid
    }
  }
}

/** What a TokenRequest returns for a token granted `seconds`. */
export function issued(
  token: string,
  seconds: number,
  warnings: string[] = []
): IssuedToken {
  return {
    token,
    expirationTimestamp: new Date(
      Math.floor(Date.now() / 1000 + seconds) * 1000
    ),
    grantedSeconds: seconds,
    warnings
  }
}

export interface FakeTokenApi extends TokenApi {
  whoami: jest.Mock<TokenApi['whoami']>
  canI: jest.Mock<TokenApi['canI']>
  rules: jest.Mock<TokenApi['rules']>
  resources: jest.Mock<TokenApi['resources']>
}

/**
 * The calls made as the minted token: it is who it should be, is allowed
 * nothing the checks ask about, and holds no rules worth a finding.
 */
export function fakeTokenApi(username: string, server = SERVER): FakeTokenApi {
  return {
    server,
    whoami: jest.fn<TokenApi['whoami']>(async () => ({
      username,
      groups: ['system:serviceaccounts', 'system:authenticated'],
      extra: {}
    })),
    canI: jest.fn<TokenApi['canI']>(async () => ({ allowed: false })),
    rules: jest.fn<TokenApi['rules']>(async () => ({
      rules: [],
      incomplete: false
    })),
    resources: jest.fn<TokenApi['resources']>(async () => undefined)
  }
}
