import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A loopback stand-in for the three GitHub REST API endpoints `duration: auto`
 * reads, answering in GitHub's shapes (JSON bodies, Link pagination, base64
 * file content) so that the bundled action can run against it with
 * GITHUB_API_URL pointing here.
 */

/** A workflow job as `GET .../actions/jobs/{id}` and the jobs lists return it. */
export interface FakeJob {
  id: number
  run_id: number
  run_attempt?: number
  /** `queued`, `in_progress`, `completed`, ... */
  status: string
  started_at: string | null
  runner_name: string | null
  name?: string
}

/** A file served by the contents API at one ref. */
export interface FakeFile {
  /** `owner/repo` */
  repository: string
  /** Repository-relative: `.github/workflows/scan.yml`. */
  path: string
  /** The `ref` query the request must carry (a commit SHA). */
  ref: string
  text: string
}

/** The jobs of one run attempt. */
export interface FakeAttempt {
  /** `owner/repo` */
  repository: string
  runId: number
  attempt: number
  jobs: FakeJob[]
}

export type Endpoint = 'jobs' | 'attemptJobs' | 'contents'

export interface GitHubApiScript {
  /** Jobs by `owner/repo`; served at /repos/:o/:r/actions/jobs/:id. */
  jobs?: Record<string, FakeJob[]>
  attemptJobs?: FakeAttempt[]
  contents?: FakeFile[]
  /** Answer this status (403, 404, 500, ...) for an endpoint instead of its data. */
  answer?: Partial<Record<Endpoint, number>>
  /** With 403: say the rate limit is used up, as GitHub does. */
  rateLimited?: boolean
  /** Only this token is accepted (`Authorization: token <t>` or `Bearer <t>`); others get 401. */
  token?: string
  /** Put the request's Authorization header into error bodies, as a careless proxy might. */
  echoAuthorization?: boolean
  /**
   * `down`: nothing listens on the port (connection refused).
   * `silent`: connections are accepted and never answered.
   */
  mode?: 'up' | 'down' | 'silent'
}

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  method: string
  /** Decoded path, without the query. */
  path: string
  query: Record<string, string>
  /** The Authorization header, verbatim (tests check the token is sent). */
  authorization: string | undefined
  userAgent: string | undefined
}

export interface GitHubApiStandIn {
  /** For GITHUB_API_URL. */
  url: string
  requests: RecordedRequest[]
  close(): Promise<void>
}

/** One answer: status, JSON body, extra headers. */
interface Reply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

const MESSAGES: Record<number, string> = {
  401: 'Bad credentials',
  403: 'Resource not accessible by integration',
  404: 'Not Found',
  500: 'Server Error'
}

/** An error in GitHub's shape (message, documentation_url, status). */
function failure(
  status: number,
  script: GitHubApiScript,
  authorization: string | undefined
): Reply {
  const limited = status === 403 && script.rateLimited === true
  const message = limited
    ? 'API rate limit exceeded for installation.'
    : (MESSAGES[status] ?? 'Error')
  return {
    status,
    body: {
      message: script.echoAuthorization
        ? `${message} (sent: ${authorization ?? 'nothing'})`
        : message,
      documentation_url: 'https://docs.github.com/rest',
      status: String(status)
    },
    headers: limited
      ? {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 600)
        }
      : {}
  }
}

/** Base64 in 60-character lines, the way the contents API returns it. */
function githubBase64(text: string): string {
  const encoded = Buffer.from(text, 'utf8').toString('base64')
  return (encoded.match(/.{1,60}/g) ?? []).join('\n') + '\n'
}

const JOB = /^\/repos\/([^/]+\/[^/]+)\/actions\/jobs\/(\d+)$/
const ATTEMPT_JOBS =
  /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/attempts\/(\d+)\/jobs$/
const CONTENTS = /^\/repos\/([^/]+\/[^/]+)\/contents\/(.+)$/

function reply(
  script: GitHubApiScript,
  base: string,
  method: string,
  url: URL,
  path: string,
  authorization: string | undefined
): Reply {
  const fail = (status: number): Reply => failure(status, script, authorization)
  if (method !== 'GET') return fail(404)
  if (
    script.token !== undefined &&
    authorization !== `token ${script.token}` &&
    authorization !== `Bearer ${script.token}`
  ) {
    return fail(401)
  }

  const job = JOB.exec(path)
  if (job?.[1] && job[2]) {
    if (script.answer?.jobs) return fail(script.answer.jobs)
    const found = script.jobs?.[job[1]]?.find((j) => j.id === Number(job[2]))
    return found ? { status: 200, body: found } : fail(404)
  }

  const attempt = ATTEMPT_JOBS.exec(path)
  if (attempt?.[1] && attempt[2] && attempt[3]) {
    if (script.answer?.attemptJobs) return fail(script.answer.attemptJobs)
    const found = script.attemptJobs?.find(
      (a) =>
        a.repository === attempt[1] &&
        a.runId === Number(attempt[2]) &&
        a.attempt === Number(attempt[3])
    )
    if (!found) return fail(404)
    // GitHub's paging: per_page (default 30, at most 100), page from 1, and
    // a Link header to the next page, which Octokit's paginate follows.
    const perPage = Math.min(
      100,
      Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30)
    )
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const headers: Record<string, string> = {}
    if (page * perPage < found.jobs.length) {
      const next = new URL(url.pathname, base)
      next.searchParams.set('per_page', String(perPage))
      next.searchParams.set('page', String(page + 1))
      headers.link = `<${next.toString()}>; rel="next"`
    }
    return {
      status: 200,
      body: {
        total_count: found.jobs.length,
        jobs: found.jobs.slice((page - 1) * perPage, page * perPage)
      },
      headers
    }
  }

  const contents = CONTENTS.exec(path)
  if (contents?.[1] && contents[2]) {
    if (script.answer?.contents) return fail(script.answer.contents)
    const ref = url.searchParams.get('ref')
    const file = script.contents?.find(
      (f) =>
        f.repository === contents[1] && f.path === contents[2] && f.ref === ref
    )
    if (!file) return fail(404)
    return {
      status: 200,
      body: {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(file.text),
        name: file.path.split('/').at(-1) ?? file.path,
        path: file.path,
        sha: '0'.repeat(40),
        url: `${base}/repos/${file.repository}/contents/${file.path}?ref=${file.ref}`,
        content: githubBase64(file.text)
      }
    }
  }

  return fail(404)
}

function record(req: http.IncomingMessage): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://stand-in')
  return {
    method: req.method ?? '',
    // Octokit sends the contents path with encoded slashes; GitHub decodes it.
    path: decodeURIComponent(url.pathname),
    query: Object.fromEntries(url.searchParams),
    authorization: req.headers.authorization,
    userAgent: req.headers['user-agent']
  }
}

/** Start the stand-in on 127.0.0.1 with a free port. */
export async function startGitHubApi(
  script: GitHubApiScript = {}
): Promise<GitHubApiStandIn> {
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  let base = ''
  const server = http.createServer((req, res) => {
    const seen = record(req)
    requests.push(seen)
    // Silent: read the request, never answer (what the call deadline is for).
    if (script.mode === 'silent') return
    const url = new URL(req.url ?? '/', base)
    const answer = reply(
      script,
      base,
      seen.method,
      url,
      seen.path,
      seen.authorization
    )
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      ...answer.headers
    })
    res.end(JSON.stringify(answer.body))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  base = `http://127.0.0.1:${String(port)}`

  const close = async (): Promise<void> => {
    if (!server.listening) return
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve, reject) =>
      server.close((err) => {
        if (err) reject(err)
        else resolve()
      })
    )
  }
  // "Down": the port was free a moment ago and nothing listens on it now.
  if (script.mode === 'down') await close()
  return { url: base, requests, close }
}
