import { describe, expect, it } from '@jest/globals'
import { ApiException } from '@kubernetes/client-node'
import {
  certainlyNotApplied,
  describeApiError,
  httpStatus,
  serverName,
  type FailedCall
} from '../../../../src/core/kube/api-errors.js'
import { ActionError } from '../../../../src/core/errors.js'
import { oidcWording } from '../../../../src/core/kube/bootstrap/oidc.js'
import {
  apiException,
  socketError,
  forbidden
} from '../../../../__fixtures__/fake-cluster-api.js'
import { SERVER } from '../../../../__fixtures__/tokens.js'

const MINTER = 'system:serviceaccount:ci:minter'

const mint: FailedCall = {
  operation: 'mint',
  server: SERVER,
  namespace: 'scans',
  serviceAccount: 'scanner'
}
const mintForPod: FailedCall = { ...mint, podName: 'scanner-0' }
const createSecret: FailedCall = {
  operation: 'create-secret',
  server: SERVER,
  namespace: 'scans'
}
const deleteSecret: FailedCall = {
  operation: 'delete-secret',
  server: SERVER,
  namespace: 'scans',
  secretName: 'ephemeral-scan-token-4242-1-abcdef0123'
}

/** The message, after checking it is one clean sentence without the client's raw dump. */
function describe1(error: unknown, call: FailedCall): string {
  const described = describeApiError(error, call)
  expect(described).toBeInstanceOf(ActionError)
  const message = described.message
  expect(message).not.toContain('\n')
  expect(message).not.toContain('HTTP-Code')
  expect(message).not.toContain('Headers')
  expect(message).not.toContain('audit-id')
  expect(message).not.toContain('"kind":"Status"')
  expect(message).toMatch(/\.$/)
  return message
}

describe('api-errors.ts', () => {
  it('reads the HTTP status of a client-node ApiException and nothing else', () => {
    expect(httpStatus(apiException(403))).toBe(403)
    expect(httpStatus(socketError('ECONNREFUSED'))).toBeUndefined()
    expect(httpStatus(null)).toBeUndefined()
  })

  it('uses a real ApiException whose own message is the raw dump the action must hide', () => {
    const error = apiException(500, {
      message: 'etcdserver: request timed out'
    })
    expect(error).toBeInstanceOf(ApiException)
    expect(error.message).toContain('HTTP-Code: 500')
    expect(error.message).toContain('\n')
  })

  it('blames the bootstrap credential on a 401, whatever the operation', () => {
    const error = new ApiException<undefined>(
      401,
      'Unauthorized',
      undefined,
      {}
    )
    for (const call of [mint, createSecret, deleteSecret]) {
      const message = describe1(error, call)
      expect(message).toContain('401 Unauthorized')
      expect(message).toContain(SERVER)
      expect(message).toContain(`'kubeconfig'`)
    }
  })

  it('names the denied identity, the verb, the resource and the namespace on a 403 while minting', () => {
    const message = describe1(
      forbidden(MINTER, 'create', 'serviceaccounts/token', 'scans', 'scanner'),
      mint
    )
    expect(message).toContain(`'${MINTER}'`)
    expect(message).toContain(`'create'`)
    expect(message).toContain(`'serviceaccounts/token'`)
    expect(message).toContain(`namespace 'scans'`)
    expect(message).toContain(`ServiceAccount 'scanner'`)
  })

  it('falls back to "the bootstrap identity" when a 403 Status names no user', () => {
    const message = describe1(
      apiException(403, { reason: 'Forbidden', message: 'forbidden' }),
      mint
    )
    expect(message).toMatch(/^the bootstrap identity may not mint tokens/i)
    expect(message).toContain(`'serviceaccounts/token'`)
  })

  it('reads a Status body that client-node already parsed into an object', () => {
    const error = new ApiException<object>(
      403,
      'Forbidden',
      { kind: 'Status', message: `User "${MINTER}" cannot create resource` },
      {}
    )
    expect(describe1(error, mint)).toContain(`'${MINTER}'`)
  })

  it('says the ServiceAccount does not exist on a 404 while minting', () => {
    const message = describe1(
      apiException(404, {
        reason: 'NotFound',
        message: 'serviceaccounts "scanner" not found',
        details: { name: 'scanner', kind: 'serviceaccounts' }
      }),
      mint
    )
    expect(message).toContain(
      `ServiceAccount 'scanner' was not found in namespace 'scans'`
    )
    expect(message).toContain(`'service-account'`)
    expect(message).toContain(`'namespace'`)
  })

  it('says the Pod does not exist on a 404 about pods while binding to one', () => {
    const message = describe1(
      apiException(404, {
        reason: 'NotFound',
        message: 'pods "scanner-0" not found',
        details: { name: 'scanner-0', kind: 'pods' }
      }),
      mintForPod
    )
    expect(message).toContain(
      `Pod 'scanner-0' was not found in namespace 'scans'`
    )
    expect(message).toContain(`'bind-to: pod:<name>'`)
    expect(message).not.toContain('ServiceAccount')
  })

  it('explains that a bound Pod must run as the ServiceAccount on a 400', () => {
    const message = describe1(
      apiException(400, {
        reason: 'BadRequest',
        message:
          'cannot bind token to pod running as a different service account'
      }),
      mintForPod
    )
    expect(message).toContain(`Pod 'scanner-0'`)
    expect(message).toContain('the API server said: cannot bind token')
    expect(message).toContain(`'bind-to: secret'`)
  })

  it('offers bind-to none and pod: on a 403 creating the per-run Secret', () => {
    const message = describe1(
      forbidden(MINTER, 'create', 'secrets', 'scans'),
      createSecret
    )
    expect(message).toContain(`'${MINTER}'`)
    expect(message).toContain(`'secrets'`)
    expect(message).toContain(`namespace 'scans'`)
    expect(message).toContain(`'bind-to: none'`)
    expect(message).toContain(`'bind-to: pod:<name>'`)
  })

  describe('403s (and admission 422s) that RBAC did not decide', () => {
    const secret = 'secrets "ephemeral-scan-token-4242-1-abc" is forbidden'
    it.each<[string, number, string, FailedCall, RegExp]>([
      [
        'an exhausted ResourceQuota',
        403,
        `${secret}: exceeded quota: no-secrets, requested: secrets=1, used: secrets=0, limited: secrets=0`,
        createSecret,
        /^A ResourceQuota in namespace 'scans' refused creating the per-run Secret \(the API server said: .*exceeded quota: no-secrets.*\): delete what earlier runs left there \(kubectl delete secret -n scans -l app.kubernetes.io\/managed-by=ephemeral-scan-token\) or ask the cluster admin to raise the quota, or set 'bind-to: none'\.$/
      ],
      [
        'an admission webhook',
        403,
        'admission webhook "validate.kyverno.svc-fail" denied the request: policy require-labels failed',
        createSecret,
        /^An admission webhook or policy refused creating the per-run Secret in namespace 'scans' \(the API server said: admission webhook .*\): ask the cluster admin to allow it \(the per-run Secret is labelled app.kubernetes.io\/managed-by=ephemeral-scan-token\), or set 'bind-to: none'\.$/
      ],
      [
        'a ValidatingAdmissionPolicy (422, its default reason)',
        422,
        `${secret}: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: no`,
        createSecret,
        /^An admission webhook or policy refused creating the per-run Secret/
      ],
      [
        'an admission webhook on the TokenRequest',
        403,
        'admission webhook "tokens.example.com" denied the request: no tokens today',
        mint,
        /^An admission webhook or policy refused the TokenRequest for ServiceAccount 'scanner' in namespace 'scans' \(the API server said: .*\): ask the cluster admin to allow it \(.*\)\.$/
      ],
      [
        'a namespace being deleted',
        403,
        `${secret}: unable to create new content in namespace scans because it is being terminated`,
        createSecret,
        /^Namespace 'scans' is being deleted, so the API server refused creating the per-run Secret in it \(the API server said: .*\): wait until it is gone and recreate it, or set 'namespace' to another one\.$/
      ],
      [
        'a namespace being deleted, while minting',
        403,
        'serviceaccounts "scanner" is forbidden: unable to create new content in namespace scans because it is being terminated',
        mint,
        /^Namespace 'scans' is being deleted, so the API server refused the TokenRequest for ServiceAccount 'scanner' in it/
      ]
    ])(
      'names %s, not a missing permission',
      (_name, code, message, call, expected) => {
        const text = describe1(
          apiException(code, { reason: 'Forbidden', message }),
          call
        )
        expect(text).toMatch(expected)
        expect(text).not.toContain('grant it')
      }
    )

    it("keeps the server's words next to the RBAC advice when another authorizer refused", () => {
      const text = describe1(
        apiException(403, {
          reason: 'Forbidden',
          message: 'secrets is forbidden: blocked by the org-wide authorizer'
        }),
        createSecret
      )
      expect(text).toContain(
        '(the API server said: secrets is forbidden: blocked by the org-wide authorizer)'
      )
      expect(text).toContain("grant it 'create' and 'delete'")
    })

    it("keeps RBAC's own denial to the RBAC sentence, without repeating the server", () => {
      const text = describe1(
        forbidden(MINTER, 'create', 'secrets', 'scans'),
        createSecret
      )
      expect(text).toContain("grant it 'create' and 'delete'")
      expect(text).not.toContain('the API server said')
    })
  })

  it('says the namespace is missing on a 404 creating the Secret', () => {
    const message = describe1(
      apiException(404, { reason: 'NotFound' }),
      createSecret
    )
    expect(message).toContain(`Namespace 'scans' does not exist`)
  })

  it('says the token stays valid until expiry on a 403 deleting the Secret', () => {
    const message = describe1(
      forbidden(MINTER, 'delete', 'secrets', 'scans', deleteSecret.secretName),
      deleteSecret
    )
    expect(message).toContain(`'${MINTER}'`)
    expect(message).toContain(`'${deleteSecret.secretName ?? ''}'`)
    expect(message).toContain(`'delete' on 'secrets'`)
    expect(message).toContain('stays valid until it expires')
  })

  it('says the minted token needs the basic self-review permissions on a 403 during its checks', () => {
    const message = describe1(
      apiException(403, {
        reason: 'Forbidden',
        message: 'selfsubjectaccessreviews is forbidden'
      }),
      { operation: 'review', server: SERVER, namespace: 'scans' }
    )
    expect(message).toContain(`namespace 'scans'`)
    expect(message).toContain(`'system:basic-user'`)
  })

  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'ERR_TLS_CERT_ALTNAME_INVALID'
  ])('names the server and the CA on a TLS failure (%s)', (code) => {
    const message = describe1(socketError(code), mint)
    expect(message).toContain(`The API server at ${SERVER}`)
    expect(message).toContain(code)
    expect(message).toContain('certificate-authority-data')
  })

  it.each([
    'ECONNREFUSED',
    'ENOTFOUND',
    'ETIMEDOUT',
    'ECONNRESET',
    'EHOSTUNREACH'
  ])('names the server when it cannot be reached (%s)', (code) => {
    const message = describe1(socketError(code), mint)
    expect(message).toContain(
      `Could not reach the API server at ${SERVER} (${code})`
    )
  })

  it('describes a failure without any code, still naming the server', () => {
    const message = describe1(new Error('Socket closed'), mint)
    expect(message).toContain(SERVER)
    expect(message).toContain('failed before an answer arrived')
  })

  it.each<[FailedCall, string]>([
    [mint, 'Minting the token'],
    [createSecret, 'Creating the per-run Secret'],
    [deleteSecret, 'Deleting the per-run Secret']
  ])(
    'reports an unknown 500 with the server message only (%#)',
    (call, what) => {
      const message = describe1(
        apiException(500, {
          reason: 'InternalError',
          message: 'Internal error occurred:\n  etcdserver: request timed out'
        }),
        call
      )
      expect(message).toContain(`${what} failed with HTTP 500`)
      expect(message).toContain(
        '(the API server said: Internal error occurred: etcdserver: request timed out)'
      )
    }
  )

  it('reports an unknown status with an unparsable body without quoting the body', () => {
    const error = new ApiException<string>(
      502,
      'Unknown API Status Code!',
      '<html>Bad Gateway</html>',
      {
        server: 'nginx'
      }
    )
    const message = describe1(error, mint)
    expect(message).toContain('HTTP 502')
    expect(message).not.toContain('<html>')
  })
})

describe('apierrors.ts 401 during the self-checks', () => {
  it('blames the minted token and points at audiences, not the bootstrap credential', () => {
    const message = describeApiError(apiException(401), {
      operation: 'review',
      server: SERVER,
      namespace: 'scans'
    }).message
    expect(message).toContain('does not accept the minted token')
    expect(message).toContain("'audiences'")
    expect(message).not.toContain('bootstrap credential')
  })
})

describe('api-errors.ts with the OIDC bootstrap (unit, mocked API errors)', () => {
  // The OIDC bootstrap object as its errors see it: who it is, its wording.
  const oidcBootstrap = (
    issuer = 'https://token.actions.githubusercontent.com'
  ): FailedCall['bootstrap'] => ({
    describe: () => "the job's GitHub ID token",
    wording: oidcWording('https://k8s.example.com', issuer)
  })
  const bootstrap = oidcBootstrap()
  const USER = 'github:octo-org/scanner'
  const oidcMint: FailedCall = { ...mint, bootstrap }
  const oidcCreate: FailedCall = {
    ...createSecret,
    serviceAccount: 'scanner',
    bootstrap
  }
  const oidcDelete: FailedCall = { ...deleteSecret, bootstrap }
  // What the API server answers for every refused ID token, whatever the cause.
  const unauthorized = apiException(401, {
    reason: 'Unauthorized',
    message: 'Unauthorized'
  })

  it('names the issuer and the audience on a 401, for every bootstrap call', () => {
    for (const call of [oidcMint, oidcCreate, oidcDelete]) {
      const message = describe1(unauthorized, call)
      expect(message).toMatch(
        /^The API server at \S+ rejected the job's GitHub ID token \(401 Unauthorized\)/
      )
      expect(message).toContain(
        'does not trust the issuer https://token.actions.githubusercontent.com'
      )
      expect(message).toContain(
        `does not accept the audience 'https://k8s.example.com'`
      )
      expect(message).toContain(`'oidc-audience'`)
      expect(message).toContain('AuthenticationConfiguration')
      expect(message).not.toContain(`'kubeconfig'`)
    }
  })

  it('says a quota or an admission policy refused, not RBAC, for the ID-token identity too', () => {
    const secret = 'secrets "ephemeral-scan-token-4242-1-abc" is forbidden'
    const quota = describe1(
      apiException(403, {
        reason: 'Forbidden',
        message: `${secret}: exceeded quota: no-secrets, requested: secrets=1, used: secrets=0, limited: secrets=0`
      }),
      oidcCreate
    )
    expect(quota).toMatch(/^A ResourceQuota in namespace 'scans' refused/)
    const webhook = describe1(
      apiException(403, {
        reason: 'Forbidden',
        message:
          'admission webhook "tokens.example.com" denied the request: no tokens today'
      }),
      oidcMint
    )
    expect(webhook).toMatch(/^An admission webhook or policy refused/)
    for (const message of [quota, webhook]) {
      expect(message).not.toContain('bind that User')
    }
  })

  it('names the issuer the token came from (GitHub Enterprise Server has its own)', () => {
    const message = describe1(unauthorized, {
      ...oidcMint,
      bootstrap: oidcBootstrap('https://ghes.example.com/_services/token')
    })
    expect(message).toContain(
      'the issuer https://ghes.example.com/_services/token'
    )
  })

  it('names the mapped user and the whole Role on a 403 creating the per-run Secret', () => {
    const message = describe1(
      forbidden(USER, 'create', 'secrets', 'scans'),
      oidcCreate
    )
    expect(message).toMatch(
      /^'github:octo-org\/scanner', the user the API server maps this job's GitHub ID token to, may not create the per-run Secret in namespace 'scans'/
    )
    expect(message).toContain(
      `'create' on 'serviceaccounts/token' with resourceNames ['scanner']`
    )
    expect(message).toContain(`'create' and 'delete' on 'secrets'`)
    expect(message).toContain('bind that User')
  })

  it('names the mapped user and the whole Role on a 403 minting', () => {
    const message = describe1(
      forbidden(USER, 'create', 'serviceaccounts/token', 'scans', 'scanner'),
      oidcMint
    )
    expect(message).toContain(`'${USER}'`)
    expect(message).toContain(
      `may not mint tokens for ServiceAccount 'scanner' in namespace 'scans'`
    )
    expect(message).toContain(`resourceNames ['scanner']`)
    expect(message).toContain(`'create' and 'delete' on 'secrets'`)
  })

  it('says the token stays valid on a 403 deleting the Secret in post', () => {
    const message = describe1(
      forbidden(USER, 'delete', 'secrets', 'scans', deleteSecret.secretName),
      oidcDelete
    )
    expect(message).toContain(`'${USER}'`)
    expect(message).toContain('stays valid until it expires')
    expect(message).toContain(`'delete' on 'secrets'`)
  })

  it('still describes the mapped user when a 403 names none (another authorizer)', () => {
    const message = describe1(
      apiException(403, { reason: 'Forbidden', message: 'denied by policy' }),
      oidcMint
    )
    expect(message).toMatch(
      /^The user the API server maps this job's GitHub ID token to may not mint/
    )
  })

  it('points TLS and network failures at the server and CA inputs', () => {
    expect(
      describe1(socketError('SELF_SIGNED_CERT_IN_CHAIN'), oidcMint)
    ).toContain(`the 'certificate-authority-data' input`)
    expect(describe1(socketError('ECONNREFUSED'), oidcMint)).toContain(
      `check the 'server' input`
    )
  })

  it("leaves the minted token's own 401 during the checks to the usual sentence", () => {
    const message = describe1(unauthorized, {
      operation: 'review',
      server: SERVER,
      namespace: 'scans',
      bootstrap
    })
    expect(message).toContain('does not accept the minted token')
  })
})

describe('api-errors.ts names the server without its path or query (review F4)', () => {
  it('prints scheme, host and port only', () => {
    const server =
      'https://127.0.0.1:9/k8s/clusters/c-x?access_token=QUERY-SECRET-0123'
    expect(serverName(server)).toBe('https://127.0.0.1:9')
    const message = describeApiError(socketError('ECONNREFUSED'), {
      ...mint,
      server
    }).message
    expect(message).toContain(
      'Could not reach the API server at https://127.0.0.1:9 (ECONNREFUSED)'
    )
    expect(message).not.toContain('QUERY-SECRET')
    expect(message).not.toContain('/k8s/clusters')
  })
})

describe('apierrors.ts certainlyNotApplied', () => {
  it.each([
    ['a 403', apiException(403), true],
    ['a 409', apiException(409), true],
    ['a 500', apiException(500), false],
    ['a refused connection', socketError('ECONNREFUSED'), true],
    ['a TCP connect that timed out', socketError('ETIMEDOUT', 'connect'), true],
    [
      'a connect to several addresses that all failed',
      Object.assign(
        new AggregateError([
          socketError('ETIMEDOUT', 'connect'),
          socketError('ECONNREFUSED')
        ]),
        { code: 'ETIMEDOUT' }
      ),
      true
    ],
    [
      'an untrusted certificate',
      socketError('SELF_SIGNED_CERT_IN_CHAIN'),
      true
    ],
    ['a timeout waiting for the answer', socketError('ETIMEDOUT'), false],
    ['a reset connection', socketError('ECONNRESET'), false],
    ['an unknown error', new Error('boom'), false]
  ])('after %s is %p', (_name, error, expected) => {
    expect(certainlyNotApplied(error)).toBe(expected)
  })
})
