/**
 * The parts of the `job` context that `duration: auto` uses. An action cannot
 * read that context from its environment, so action.yml hands it over as the
 * input `job-context` (default `${{ toJSON(job) }}`). Every field is optional:
 * GHES and local runners leave most of them out, and a user may override the
 * input with anything.
 */
export interface JobContext {
  /** `job.check_run_id`: the id of `GET /repos/{owner}/{repo}/actions/jobs/{id}`. */
  checkRunId?: number
  /** `job.workflow_sha`: the commit of that file. */
  workflowSha?: string
  /** `job.workflow_repository`: `owner/repo` of that file. */
  workflowRepository?: string
  /** `job.workflow_file_path`: its path in that repository, `.github/workflows/x.yml`. */
  workflowFilePath?: string
}

// What GitHub accepts as owner and repository names (never `.` or `..`);
// anything else would be spliced into an API path, so it is dropped rather
// than trusted.
const REPOSITORY =
  /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/((?!\.\.?$)[A-Za-z0-9._-]{1,100})$/
/** SHA-1, or SHA-256 for repositories that use it. */
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i

/** `owner/repo` split, when both are names GitHub accepts. */
export function splitRepository(
  repository: string | undefined
): { owner: string; repo: string } | undefined {
  const match = REPOSITORY.exec(repository ?? '')
  return match?.[1] && match[2]
    ? { owner: match[1], repo: match[2] }
    : undefined
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function checkRunId(value: unknown): number | undefined {
  // toJSON(job) writes a number; a hand-written input may quote it.
  const id =
    typeof value === 'string' && /^\d+$/.test(value.trim())
      ? Number(value.trim())
      : value
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0
    ? id
    : undefined
}

/** A repository-relative file path with no way out of the repository. */
function filePath(value: unknown): string | undefined {
  const path = text(value)
  if (path === undefined || path.startsWith('/') || path.includes('\\')) {
    return undefined
  }
  const segments = path.split('/')
  return segments.every((s) => s !== '' && s !== '.' && s !== '..')
    ? path
    : undefined
}

function pick(value: unknown, pattern: RegExp): string | undefined {
  const candidate = text(value)
  return candidate !== undefined && pattern.test(candidate)
    ? candidate
    : undefined
}

/**
 * Parse the `job-context` input. Never throws: empty input, bad JSON, a value
 * that is not an object, or a field of the wrong shape gives `undefined` for
 * that field, and `duration: auto` then falls back and says so.
 */
export function parseJobContext(raw: string | undefined): JobContext {
  if (raw === undefined || raw.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return {}
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {}
  }
  const job = parsed as Record<string, unknown>
  const context: JobContext = {
    checkRunId: checkRunId(job.check_run_id),
    workflowSha: pick(job.workflow_sha, COMMIT_SHA),
    workflowRepository: pick(job.workflow_repository, REPOSITORY),
    workflowFilePath: filePath(job.workflow_file_path)
  }
  // Leave absent fields out, so callers and tests see only what was given.
  return Object.fromEntries(
    Object.entries(context).filter(([, value]) => value !== undefined)
  )
}
