// A plain-HTTP stand-in for the runner's ID-token endpoint, for unit tests:
// the real @actions/core getIDToken talks to it on loopback and gets an
// unsigned GitHub-shaped JWT (nothing verifies it in unit tests; the e2e
// tests use a signing issuer that a real API server trusts).
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import { fakeJwt } from './tokens.ts'
import { closeServer } from './close-server.ts'

export const STUB_ISSUER = 'https://token.actions.githubusercontent.com'

/** The OIDC inputs' values in unit tests. */
export const OIDC_SERVER = 'https://203.0.113.10:6443'
export const OIDC_AUDIENCE = 'https://k8s.example.com'
/** A real X.509 certificate (the e2e tests' unrelated CA): the CA input must parse. */
export const OIDC_CA_PEM = fs.readFileSync(
  path.join(
    import.meta.dirname,
    '..',
    '__tests__',
    'e2e',
    'support',
    'wrong-ca.pem'
  ),
  'utf8'
)
export const OIDC_CA_DATA = Buffer.from(OIDC_CA_PEM).toString('base64')

export interface StubRequest {
  audience: string | null
  authorized: boolean
}

export class IdTokenStub {
  readonly requestToken = randomBytes(24).toString('hex')
  readonly requests: StubRequest[] = []
  /** Every ID token handed out, for leak checks. */
  readonly issued: string[] = []
  /** When set, answer this instead of a token. */
  answer: { status: number; body: unknown } | undefined
  readonly url: string
  private readonly server: http.Server

  private constructor(server: http.Server, url: string) {
    this.server = server
    this.url = url
  }

  static async start(): Promise<IdTokenStub> {
    const server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const stub = new IdTokenStub(
      server,
      `http://127.0.0.1:${port}/idtoken?api-version=2.0`
    )
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', stub.url)
      const request = {
        audience: url.searchParams.get('audience'),
        authorized: req.headers.authorization === `Bearer ${stub.requestToken}`
      }
      stub.requests.push(request)
      let status = 200
      let body: unknown
      if (!request.authorized) {
        status = 401
        body = { message: 'bad request token' }
      } else if (stub.answer) {
        ;({ status, body } = stub.answer)
      } else {
        const token = fakeJwt({
          iss: STUB_ISSUER,
          aud: request.audience ?? 'https://github.com/octo-org',
          sub: 'repo:octo-org/scanner:ref:refs/heads/main',
          repository: 'octo-org/scanner',
          jti: randomBytes(8).toString('hex')
        })
        stub.issued.push(token)
        body = { value: token }
      }
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    })
    return stub
  }

  env(): Record<string, string> {
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: this.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken
    }
  }

  async stop(): Promise<void> {
    await closeServer(this.server)
  }
}
