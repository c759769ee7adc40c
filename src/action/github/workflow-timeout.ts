import { CORE_SCHEMA, load, mergeTag } from 'js-yaml'
import type { WorkflowTimeout } from '../../core/token/auto-lifetime.js'

/** What a workflow file says about one job's `timeout-minutes`. */
export type { WorkflowTimeout }

/**
 * GitHub's job id rule (actions/languageservices, workflow-parser
 * `IdBuilder.tryAddKnownId`): a letter or `_` first, then letters, digits,
 * `_` and `-`, shorter than 100 characters.
 */
const JOB_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,98}$/

// Merge keys (`<<: *defaults`) are enabled on purpose: GitHub refuses a job
// key it does not know, so a job that is running either has no `<<` or had it
// merged; either way merging reads what GitHub read.
const WORKFLOW_SCHEMA = CORE_SCHEMA.withTags(mergeTag)

/** Expressions are shown in the warning, but never at a length that floods it. */
const MAX_SHOWN = 80

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function shown(value: string): string {
  return value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value
}

/** The line of a js-yaml error, without the snippet of the file it carries. */
function yamlProblem(error: unknown, file: string): string {
  const mark = (error as { mark?: { line?: unknown } } | null)?.mark
  const reason = (error as { reason?: unknown } | null)?.reason
  // Quoted inside a sentence: one line, no full stop of its own.
  const what =
    typeof reason === 'string' && reason.trim() !== ''
      ? reason.replace(/\s+/g, ' ').replace(/[.\s]+$/, '')
      : 'it does not parse'
  return typeof mark?.line === 'number'
    ? `${file} is not valid YAML: ${what} on line ${mark.line + 1}`
    : `${file} is not valid YAML: ${what}`
}

/**
 * The job's mapping: `jobs[jobKey]`, or the one key that equals it ignoring
 * case (GitHub refuses two job ids that differ only in case, and compares
 * them that way), looked up as an own property so that a job called
 * `constructor` is not Object's.
 */
function findJob(
  jobs: Record<string, unknown>,
  jobKey: string
): { key: string; job: unknown } | undefined {
  if (Object.hasOwn(jobs, jobKey)) return { key: jobKey, job: jobs[jobKey] }
  const wanted = jobKey.toUpperCase()
  const matches = Object.keys(jobs).filter((k) => k.toUpperCase() === wanted)
  const [key] = matches
  return matches.length === 1 && key !== undefined
    ? { key, job: jobs[key] }
    : undefined
}

function fromNumber(
  minutes: number,
  key: string,
  file: string
): WorkflowTimeout {
  if (!Number.isFinite(minutes) || minutes <= 0) {
    return {
      kind: 'unreadable',
      why: `job '${key}' in ${file} sets timeout-minutes to ${String(minutes)}, which is not a positive number of minutes`
    }
  }
  return { kind: 'minutes', minutes }
}

/**
 * The `timeout-minutes` of job `jobKey` (`GITHUB_JOB`) in a workflow file's
 * text: a top-level workflow, a matrix job (the key, not the expanded name)
 * or a reusable (`on: workflow_call`) file alike. `file` names the file in
 * the reasons (`owner/repo/.github/workflows/x.yml@abc1234`). Pure; never
 * throws.
 */
export function jobTimeoutFromWorkflow(
  yamlText: string,
  jobKey: string,
  file = 'the workflow file'
): WorkflowTimeout {
  if (!JOB_ID.test(jobKey)) {
    return {
      kind: 'unreadable',
      why:
        jobKey === ''
          ? 'GITHUB_JOB is empty'
          : `GITHUB_JOB is '${shown(jobKey)}', which is not a job id`
    }
  }
  let workflow: unknown
  try {
    workflow = load(yamlText, { schema: WORKFLOW_SCHEMA })
  } catch (error) {
    return { kind: 'unreadable', why: yamlProblem(error, file) }
  }
  const jobs = isMapping(workflow) ? workflow.jobs : undefined
  if (!isMapping(jobs)) {
    return {
      kind: 'unreadable',
      why: `${file} has no jobs mapping`
    }
  }
  const found = findJob(jobs, jobKey)
  if (found === undefined) {
    return {
      kind: 'unreadable',
      why: `${file} has no job '${jobKey}'`
    }
  }
  const { key, job } = found
  if (!isMapping(job)) {
    return {
      kind: 'unreadable',
      why: `job '${key}' in ${file} is not a mapping`
    }
  }
  if (Object.hasOwn(job, 'uses')) {
    // A caller's job that runs a reusable workflow: the timeout that counts
    // is in the called file, which this one is not.
    return {
      kind: 'unreadable',
      why: `job '${key}' in ${file} calls a reusable workflow, whose own file sets the timeout`
    }
  }
  if (!Object.hasOwn(job, 'timeout-minutes')) return { kind: 'absent' }
  const value = job['timeout-minutes']
  if (typeof value === 'number') return fromNumber(value, key, file)
  if (typeof value === 'string') {
    const trimmed = value.trim()
    if (trimmed.includes('${{')) {
      return { kind: 'expression', text: shown(trimmed) }
    }
    // GitHub's schema wants a number, but a job that runs was accepted, so a
    // quoted number means that number.
    if (/^\d+(\.\d+)?$/.test(trimmed))
      return fromNumber(Number(trimmed), key, file)
    return {
      kind: 'unreadable',
      why: `job '${key}' in ${file} sets timeout-minutes to '${shown(trimmed)}', which is not a number`
    }
  }
  const what =
    value === null
      ? 'nothing'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'a mapping'
          : `a ${typeof value}`
  return {
    kind: 'unreadable',
    why: `job '${key}' in ${file} sets timeout-minutes to ${what}, not a number`
  }
}
