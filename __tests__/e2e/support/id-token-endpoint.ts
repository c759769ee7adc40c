// A stand-in for the runner's ID-token endpoint (what `permissions:
// id-token: write` exposes as ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN). It answers
// exactly what @actions/core's OidcClient.getIDToken asks: a GET of the URL
// with `&audience=<encoded>` appended, `Authorization: Bearer <request token>`,
// and a JSON body whose `value` is the ID token.
import { randomBytes, randomUUID } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  TRUSTED_JOB,
  type GitHubJob,
  type MintOptions,
  type OidcIssuer
} from './oidc-issuer.ts'
import { closeServer } from '../../../__fixtures__/close-server.ts'

/** One request the endpoint answered. */
export interface IdTokenRequest {
  method: string
  /** The `audience` query parameter, or null when the caller sent none. */
  audience: string | null
  /** Whether the caller presented the right request token. */
  authorized: boolean
  status: number
}

/** A canned failure: the status and JSON body to answer with. */
export interface IdTokenFailure {
  status: number
  body: unknown
}

/**
 * The real URL has a query already (`?api-version=2.0`), which is why
 * getIDToken appends with `&`; the path mirrors the runner's too.
 */
export class IdTokenEndpoint {
  readonly requestToken = randomBytes(32).toString('hex')
  readonly requests: IdTokenRequest[] = []
  /** Every ID token handed out, for leak scans. */
  readonly issued: string[] = []
  /** The job the tokens speak for. */
  job: GitHubJob = TRUSTED_JOB
  /** Applied to every token minted (wrong claims, expired, forged...). */
  mintOptions: Omit<MintOptions, 'audience'> = {}
  /** When set, every request gets this answer instead of a token. */
  failure: IdTokenFailure | undefined

  readonly url: string
  private readonly server: http.Server
  private readonly issuer: OidcIssuer

  // Plain fields, no parameter properties: Node's type stripping cannot run those.
  private constructor(server: http.Server, url: string, issuer: OidcIssuer) {
    this.server = server
    this.url = url
    this.issuer = issuer
  }

  static async start(issuer: OidcIssuer): Promise<IdTokenEndpoint> {
    const server = http.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const { port } = server.address() as AddressInfo
    const url =
      `http://127.0.0.1:${port}/_apis/distributedtask/hubs/Actions/plans/` +
      `${randomUUID()}/jobs/${randomUUID()}/idtoken?api-version=2.0`
    const endpoint = new IdTokenEndpoint(server, url, issuer)
    server.on('request', (req, res) => {
      endpoint.serve(req, res)
    })
    return endpoint
  }

  /** The two variables the runner gives a step with `id-token: write`. */
  env(): Record<string, string> {
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: this.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken
    }
  }

  /** Back to handing out good tokens for `TRUSTED_JOB`, history kept. */
  reset(): void {
    this.job = TRUSTED_JOB
    this.mintOptions = {}
    this.failure = undefined
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const expected = new URL(this.url)
    const got = new URL(req.url ?? '/', expected)
    const authorized =
      req.headers.authorization === `Bearer ${this.requestToken}`
    const audience = got.searchParams.get('audience')
    const answer = (status: number, body: unknown): void => {
      this.requests.push({
        method: req.method ?? '',
        audience,
        authorized,
        status
      })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (
      req.method !== 'GET' ||
      got.pathname !== expected.pathname ||
      got.searchParams.get('api-version') !== '2.0'
    ) {
      answer(404, { message: 'no such endpoint' })
    } else if (!authorized) {
      answer(401, { message: 'the request token is not valid for this job' })
    } else if (this.failure) {
      answer(this.failure.status, this.failure.body)
    } else {
      const token = this.issuer.mint(this.job, {
        ...this.mintOptions,
        ...(audience === null ? {} : { audience })
      })
      this.issued.push(token)
      answer(200, { value: token })
    }
  }

  async stop(): Promise<void> {
    await closeServer(this.server)
  }
}
