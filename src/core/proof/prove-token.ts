import { host } from '../ports.js'
import { describeApiError } from '../kube/api-errors.js'
import { confirmChecks, describeCheck } from './can-i-lines.js'
import { ActionError } from '../errors.js'
import { toKubeConfig } from '../token/kubeconfig-file.js'
import {
  describeScope,
  findExcessPrivilege,
  type PrivilegeReport
} from './excess-privilege.js'
import {
  connectAsToken,
  type AccessCheck,
  type Identity,
  type TokenApi
} from '../kube/token-api.js'
import type { CallBounds } from '../kube/deadline.js'

/** What an excess privilege does: a warning, a failure, or nothing (not checked). */
export type ExcessPrivilegeMode = 'warn' | 'fail' | 'off'

interface CheckResult {
  expected: 'allowed' | 'denied'
  check: AccessCheck
  allowed: boolean
  /** The authorizer's evaluation error, when it could not decide cleanly. */
  undecided?: string
  ok: boolean
}

/**
 * RBAC reports bindings to roles that do not exist as an evaluation error
 * on every review; the answer is still decided. Any other error (a webhook
 * that failed, say) leaves "denied" unproven.
 */
function undecided(error: string | undefined): string | undefined {
  if (!error) return undefined
  const parts = error.replace(/^\[|\]$/g, '').split(/,\s*/)
  const rbacOnly = parts.every((part) =>
    /^(cluster)?role\.rbac\.authorization\.k8s\.io "[^"]*" not found$/.test(
      part.trim()
    )
  )
  return rbacOnly ? undefined : error
}

/** What the minted token was shown to be and to be able to do. */
export interface Proof {
  identity?: Identity
  checks: CheckResult[]
  privilege?: PrivilegeReport
}

export interface ProofRequest {
  verify: boolean
  expectAllowed: AccessCheck[]
  expectDenied: AccessCheck[]
  excessPrivilege: ExcessPrivilegeMode
  namespace: string
  /** system:serviceaccount:<ns>:<name> */
  username: string
}

/**
 * Prove what was asked, as the token in `kubeconfig` (the content the file
 * will get); undefined when nothing was asked.
 */
export async function proveToken(
  kubeconfig: string,
  request: ProofRequest,
  bounds?: CallBounds
): Promise<Proof | undefined> {
  const needed =
    request.verify ||
    request.expectAllowed.length + request.expectDenied.length > 0 ||
    request.excessPrivilege !== 'off'
  if (!needed) return undefined
  return gatherProof(connectAsToken(toKubeConfig(kubeconfig), bounds), request)
}

/** Ask the API server, as the new token, who it is and what it may do. */
export async function gatherProof(
  api: TokenApi,
  request: ProofRequest
): Promise<Proof> {
  try {
    const proof: Proof = { checks: [] }
    if (request.verify) proof.identity = await api.whoami()
    // Lines the action's own tables cannot vouch for are confirmed through
    // discovery first, so that a typo fails instead of passing as denied.
    const expected = [
      ...request.expectAllowed.map(() => 'allowed' as const),
      ...request.expectDenied.map(() => 'denied' as const)
    ]
    const confirmed = await confirmChecks(
      [...request.expectAllowed, ...request.expectDenied],
      (group) => api.resources(group)
    )
    const wanted = confirmed.map((check, i) => ({
      expected: expected[i] ?? 'denied',
      check
    }))
    const answers = await Promise.all(wanted.map((w) => api.canI(w.check)))
    proof.checks = wanted.map((w, i) => {
      const allowed = answers[i]?.allowed === true
      const unsure = allowed ? undefined : undecided(answers[i]?.error)
      const ok =
        w.expected === 'allowed' ? allowed : !allowed && unsure === undefined
      return { ...w, allowed, ok, ...(unsure ? { undecided: unsure } : {}) }
    })
    if (request.excessPrivilege !== 'off') {
      // The token's namespace and every namespace the checks look at.
      proof.privilege = await findExcessPrivilege(api, [
        request.namespace,
        ...wanted.map((w) => w.check.namespace)
      ])
    }
    return proof
  } catch (error) {
    if (error instanceof ActionError) throw error
    throw describeApiError(error, {
      operation: 'review',
      server: api.server,
      namespace: request.namespace
    })
  }
}

/** What the API server answered to a check, in the one word the log, the summary and errors use. */
export function answerWord(c: CheckResult): 'undecided' | 'allowed' | 'denied' {
  if (c.undecided) return 'undecided'
  return c.allowed ? 'allowed' : 'denied'
}

/** Render the checks as a plain-text table for the log. */
function checksTable(checks: CheckResult[]): string {
  const rows = checks.map((c) => [
    c.ok ? 'ok' : 'MISMATCH',
    `expected ${c.expected}`,
    `is ${answerWord(c)}`,
    describeCheck(c.check)
  ])
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => (r[i] ?? '').length))
  )
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell))
        .join('  ')
    )
    .join('\n')
}

/**
 * Fail (throw) on a wrong identity, a failed expectation, or excess
 * privilege in `fail` mode; warn on excess privilege in `warn` mode.
 */
export function enforceProof(proof: Proof, request: ProofRequest): void {
  if (proof.identity && proof.identity.username !== request.username) {
    throw new ActionError(
      `The minted token authenticates as '${proof.identity.username}', not ` +
        `'${request.username}': check for an authenticating proxy or webhook ` +
        `that rewrites identities before using this cluster.`
    )
  }
  if (proof.identity) {
    host().info(
      `Verified with SelfSubjectReview: the token authenticates as ${proof.identity.username}.`
    )
  }
  if (proof.checks.length > 0) {
    host().info(
      `Permission checks (as the minted token):\n${checksTable(proof.checks)}`
    )
  }
  const failed = proof.checks.filter((c) => !c.ok)
  if (failed.length > 0) {
    const list = failed
      .map((c) =>
        c.undecided
          ? `'${c.check.line}' could not be decided (the authorizer reported: ${c.undecided})`
          : `'${c.check.line}' is ${answerWord(c)} but expected ${c.expected}`
      )
      .join('; ')
    throw new ActionError(
      `${failed.length} of ${proof.checks.length} permission checks failed (${list}): ` +
        `fix the ServiceAccount's Role or the 'expect-allowed' / 'expect-denied' lines.`
    )
  }
  const privilege = proof.privilege
  if (!privilege) return
  const findings = privilege.findings
  const scope = describeScope(privilege)
  if (findings.length === 0) {
    host().info(
      `Excess-privilege review: nothing a scanner should not hold. ${scope}`
    )
    return
  }
  const lines = findings.map((f) => `${f.risk}: ${f.evidence}`)
  if (request.excessPrivilege === 'fail') {
    throw new ActionError(
      `The ServiceAccount holds ${findings.length} permission(s) a scanner should not ` +
        `(${lines.join('; ')}): narrow its Role, or set 'excess-privilege: warn'.`
    )
  }
  for (const line of lines) host().warning(`Excess privilege: ${line}.`)
  host().info(`Excess-privilege review: ${scope}`)
}
