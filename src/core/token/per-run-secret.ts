import { randomBytes } from 'node:crypto'
import type { V1Secret } from '@kubernetes/client-node'
import { rfc3339 } from '../kube/formats.js'
import { MANAGED_BY } from '../names.js'

/** The per-run Secret the token is bound to; deleting it revokes the token. */
export interface PerRunSecretRef {
  namespace: string
  name: string
  /** Known once created; used as a delete precondition. */
  uid?: string
  /**
   * True once the create was answered. Until then the Secret may or may not
   * exist (the call is in flight, or failed in a way that may have landed).
   */
  created?: boolean
}

const PREFIX = 'ephemeral-scan-token'

/**
 * A word as a POSIX shell reads it: left bare when it holds nothing a shell
 * treats specially, else single-quoted. The values are verified DNS names
 * already; quoting anyway keeps a copied line harmless whatever reaches it.
 */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._/=:,@%+-]+$/.test(value)
    ? value
    : `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * The kubectl line that deletes exactly this Secret, and only if it carries
 * this action's label.
 */
export function deleteCommand(ref: PerRunSecretRef): string {
  return (
    `kubectl delete secret -n ${shellWord(ref.namespace)} ` +
    `-l app.kubernetes.io/managed-by=${MANAGED_BY} ` +
    `--field-selector ${shellWord(`metadata.name=${ref.name}`)}`
  )
}

/**
 * "per-run Secret NS/NAME remains: delete it with '…'.", the one sentence
 * tail for a Secret left behind, whatever left it (`state`: remains, may
 * exist, and why).
 */
export function secretRemains(ref: PerRunSecretRef, state: string): string {
  return (
    `per-run Secret ${ref.namespace}/${ref.name} ${state}: ` +
    `delete it with '${deleteCommand(ref)}'.`
  )
}

/**
 * The label selector for the per-run Secrets of this workflow run attempt
 * (other jobs of the run may have their own), for when the name is unknown.
 */
export function runSelector(env: NodeJS.ProcessEnv = process.env): string {
  const parts = [`app.kubernetes.io/managed-by=${MANAGED_BY}`]
  const runId = labelValue(env.GITHUB_RUN_ID ?? '')
  const attempt = labelValue(env.GITHUB_RUN_ATTEMPT ?? '')
  if (runId) parts.push(`${PREFIX}/run-id=${runId}`)
  if (attempt) parts.push(`${PREFIX}/run-attempt=${attempt}`)
  return parts.join(',')
}

/** A label value must be at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
  return cleaned
}

/** Part of a Secret name (a DNS-1123 subdomain): lowercase letters, digits and '-'. */
function namePart(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '')
}

/**
 * The part of a per-run Secret's name that says who made it, between the
 * prefix and the 10 random hex digits: the action's is the workflow run and
 * attempt (`<run id>-<attempt>`); the CLI gives its own (`cli-…`, see
 * src/cli/naming.ts), so neither front door accepts the other's names.
 */
export type NameScope = string

/** The run and attempt parts of this run's per-run Secret names. */
function runParts(env: NodeJS.ProcessEnv, scope?: NameScope): string {
  if (scope !== undefined) return `${PREFIX}-${scope}-`
  const run = env.GITHUB_RUN_ID ?? 'local'
  const attempt = env.GITHUB_RUN_ATTEMPT ?? '1'
  return `${PREFIX}-${namePart(run)}-${namePart(attempt)}-`
}

/** A fresh, unguessable name that still says which run made it. */
export function perRunSecretName(
  env: NodeJS.ProcessEnv = process.env,
  scope?: NameScope
): string {
  return runParts(env, scope) + randomBytes(5).toString('hex')
}

/**
 * True when `name` is one perRunSecretName() gives in this run attempt, so
 * post never deletes a Secret that a planted record names: not another
 * run's, not the application's, and never a path trick such as '..'.
 */
export function isPerRunSecretName(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  scope?: NameScope
): boolean {
  const prefix = runParts(env, scope)
  return (
    name.startsWith(prefix) && /^[0-9a-f]{10}$/.test(name.slice(prefix.length))
  )
}

/**
 * The Secret manifest. Labels let an admin list and sweep what a run left
 * behind (`-l app.kubernetes.io/managed-by=ephemeral-scan-token`); annotations
 * keep the full, unlabelable values.
 */
export function perRunSecretManifest(
  ref: PerRunSecretRef,
  serviceAccount: string,
  expiresAt: Date
): V1Secret {
  const env = process.env
  const repository = env.GITHUB_REPOSITORY ?? ''
  const runId = env.GITHUB_RUN_ID ?? ''
  const attempt = env.GITHUB_RUN_ATTEMPT ?? ''
  const expires = rfc3339(expiresAt)
  const labels: Record<string, string> = {
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [`${PREFIX}/service-account`]: labelValue(serviceAccount),
    [`${PREFIX}/expires-at`]: String(Math.floor(expiresAt.getTime() / 1000))
  }
  if (repository) labels[`${PREFIX}/repository`] = labelValue(repository)
  if (runId) labels[`${PREFIX}/run-id`] = labelValue(runId)
  if (attempt) labels[`${PREFIX}/run-attempt`] = labelValue(attempt)
  const annotations: Record<string, string> = {
    [`${PREFIX}/purpose`]:
      'Bound object of a short-lived ServiceAccount token; deleting this Secret revokes the token.',
    [`${PREFIX}/expires-at`]: expires
  }
  const audit: Record<string, string | undefined> = {
    repository,
    // The same variables the GitHub toolkit's context reads, read directly so
    // that minting does not load the Octokit client.
    workflow: env.GITHUB_WORKFLOW,
    'run-id': runId,
    'run-attempt': attempt,
    job: env.GITHUB_JOB,
    actor: env.GITHUB_ACTOR,
    sha: env.GITHUB_SHA,
    'server-url': env.GITHUB_SERVER_URL
  }
  for (const [key, value] of Object.entries(audit)) {
    if (value) annotations[`${PREFIX}/${key}`] = value
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    immutable: true,
    metadata: { name: ref.name, namespace: ref.namespace, labels, annotations }
  }
}
