// A stand-in for GitHub's OIDC issuer (token.actions.githubusercontent.com),
// served over HTTPS on loopback with its own CA, so a real kube-apiserver can
// be told to trust it through a structured AuthenticationConfiguration.
import { execFileSync } from 'node:child_process'
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject
} from 'node:crypto'
import * as fs from 'node:fs'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { closeServer } from '../../../__fixtures__/close-server.ts'

/** A CA and a serving certificate for 127.0.0.1 / ::1 / localhost, as PEM. */
export interface LoopbackTls {
  caPem: string
  certPem: string
  keyPem: string
}

/**
 * Node can parse X.509 but not issue it, so the certificates come from the
 * openssl CLI (Debian's, always present where the cluster builds). Go's TLS
 * client (the API server's) ignores the CN and needs the SAN, hence the
 * extension file; the keys live only in a private temp dir removed at once.
 */
export function makeLoopbackTls(commonName = 'est-test-oidc'): LoopbackTls {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-oidc-pki-'))
  const at = (name: string): string => path.join(dir, name)
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe']
    })
  }
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
    openssl([
      'req',
      '-x509',
      ...ec,
      '-nodes',
      '-days',
      '2',
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.crt'),
      '-subj',
      `/CN=${commonName}-ca`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign'
    ])
    openssl([
      'req',
      '-new',
      ...ec,
      '-nodes',
      '-keyout',
      at('server.key'),
      '-out',
      at('server.csr'),
      '-subj',
      `/CN=${commonName}`
    ])
    fs.writeFileSync(
      at('server.ext'),
      [
        'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        ''
      ].join('\n')
    )
    openssl([
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-days',
      '2',
      '-CA',
      at('ca.crt'),
      '-CAkey',
      at('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-extfile',
      at('server.ext'),
      '-out',
      at('server.crt')
    ])
    return {
      caPem: fs.readFileSync(at('ca.crt'), 'utf8'),
      certPem: fs.readFileSync(at('server.crt'), 'utf8'),
      keyPem: fs.readFileSync(at('server.key'), 'utf8')
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The repository and workflow a job runs as; the claims derive from it. */
export interface GitHubJob {
  owner: string
  ownerId: string
  /** Repository name without the owner. */
  repo: string
  repositoryId: string
  /** Workflow file path inside the repository. */
  workflow: string
  ref: string
  runId: string
}

export const TRUSTED_JOB: GitHubJob = {
  owner: 'octo-org',
  ownerId: '1000001',
  repo: 'scanner',
  repositoryId: '2000002',
  workflow: '.github/workflows/scan.yml',
  ref: 'refs/heads/main',
  runId: '3000003'
}

export type Claims = Record<string, unknown>

/** What `TRUSTED_JOB`-like input turns into: the claims GitHub would put in the token. */
export function githubClaims(job: GitHubJob): Claims {
  const repository = `${job.owner}/${job.repo}`
  const workflowRef = `${repository}/${job.workflow}@${job.ref}`
  const sha = createHash('sha1').update(workflowRef).digest('hex')
  return {
    sub: `repo:${repository}:ref:${job.ref}`,
    ref: job.ref,
    ref_type: job.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: 'false',
    sha,
    repository,
    repository_id: job.repositoryId,
    repository_owner: job.owner,
    repository_owner_id: job.ownerId,
    repository_visibility: 'private',
    run_id: job.runId,
    run_number: '1',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '4000004',
    event_name: 'push',
    workflow: 'scan',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    runner_environment: 'github-hosted'
  }
}

export interface MintOptions {
  /** `aud`; GitHub's default is the owner's URL. */
  audience?: string
  /** Claims that replace (or, with `undefined`, remove) the defaults, `iss` and times included. */
  claims?: Claims
  /** Seconds from now to `exp`; negative mints an expired token. */
  lifetimeSeconds?: number
  /** Sign with a key the JWKS does not publish (same `kid`): a forged token. */
  forgedSignature?: boolean
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

interface SigningKey {
  privateKey: KeyObject
  kid: string
  jwk: Record<string, unknown>
}

function rsaSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048
  })
  const { n, e } = publicKey.export({ format: 'jwk' })
  // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
  const kid = b64url(
    createHash('sha256')
      .update(JSON.stringify({ e, kty: 'RSA', n }))
      .digest()
  )
  return {
    privateKey,
    kid,
    jwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' }
  }
}

/** One request the issuer served: the API server fetching discovery or keys. */
export interface IssuerRequest {
  path: string
  at: Date
}

/**
 * GitHub's issuer in miniature: discovery at
 * `/.well-known/openid-configuration`, keys at `/.well-known/jwks`, and
 * RS256 ID tokens shaped like an Actions job's. `url` has no trailing slash,
 * exactly as `iss` and the AuthenticationConfiguration must spell it.
 */
export class OidcIssuer {
  readonly requests: IssuerRequest[] = []

  readonly url: string
  readonly tls: LoopbackTls
  private readonly server: https.Server
  private readonly key: SigningKey
  private readonly forger: SigningKey

  // Plain fields, no parameter properties: Node's type stripping (scripts
  // run with `node file.ts`) cannot run those.
  private constructor(
    server: https.Server,
    url: string,
    tls: LoopbackTls,
    key: SigningKey,
    forger: SigningKey
  ) {
    this.server = server
    this.url = url
    this.tls = tls
    this.key = key
    this.forger = forger
  }

  static async start(): Promise<OidcIssuer> {
    const tls = makeLoopbackTls()
    const key = rsaSigningKey()
    const forger = rsaSigningKey()
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const { port } = server.address() as AddressInfo
    const issuer = new OidcIssuer(
      server,
      `https://127.0.0.1:${port}`,
      tls,
      key,
      forger
    )
    server.on('request', (req, res) => {
      issuer.serve(req.url ?? '/', res)
    })
    return issuer
  }

  /** The issuer's CA certificate (PEM): what the API server must trust. */
  get caPem(): string {
    return this.tls.caPem
  }

  private serve(
    urlPath: string,
    res: import('node:http').ServerResponse
  ): void {
    this.requests.push({ path: urlPath, at: new Date() })
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const { pathname } = new URL(urlPath, this.url)
    if (pathname === '/.well-known/openid-configuration') {
      json(200, {
        issuer: this.url,
        jwks_uri: `${this.url}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'sub',
          'aud',
          'exp',
          'iat',
          'iss',
          'jti',
          'nbf',
          ...Object.keys(githubClaims(TRUSTED_JOB))
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid']
      })
    } else if (pathname === '/.well-known/jwks') {
      json(200, { keys: [this.key.jwk] })
    } else {
      json(404, { message: 'not found' })
    }
  }

  /** An ID token for `job`, as GitHub would mint it, with `options` applied. */
  mint(job: GitHubJob = TRUSTED_JOB, options: MintOptions = {}): string {
    const now = Math.floor(Date.now() / 1000)
    const lifetime = options.lifetimeSeconds ?? 300
    const exp = now + lifetime
    // An expired token was issued five minutes before it expired.
    const iat = lifetime > 0 ? now : exp - 300
    const claims: Claims = {
      jti: randomUUID(),
      ...githubClaims(job),
      aud: options.audience ?? `https://github.com/${job.owner}`,
      iss: this.url,
      // GitHub back-dates nbf by five minutes (clock skew at the verifier).
      nbf: iat - 300,
      iat,
      exp
    }
    const overridden = Object.fromEntries(
      Object.entries({ ...claims, ...options.claims }).filter(
        ([, value]) => value !== undefined
      )
    )
    const key = options.forgedSignature
      ? { ...this.forger, kid: this.key.kid }
      : this.key
    const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }))}.${b64url(JSON.stringify(overridden))}`
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`
  }

  async stop(): Promise<void> {
    // The API server keeps its connection to the issuer alive.
    await closeServer(this.server)
  }
}

/** The claims of a JWT, unverified: for assertions in tests only. */
export function claimsOf(jwt: string): Claims {
  const payload = jwt.split('.')[1] ?? ''
  return JSON.parse(
    Buffer.from(payload, 'base64url').toString('utf8')
  ) as Claims
}
