import { CredentialPluginError } from './credential-plugin.js'
import { ATTEMPT_MS, historyOf, isDeadlineError } from './deadline.js'
import { ActionError } from '../errors.js'
import { MANAGED_BY } from '../names.js'
import type { BootstrapIdentity } from './bootstrap/kind.js'
import { KUBECONFIG_WORDING } from './bootstrap/kubeconfig.js'

/** What the action was doing when a Kubernetes call failed. */
export interface FailedCall {
  operation: 'mint' | 'create-secret' | 'delete-secret' | 'review'
  server: string
  namespace: string
  serviceAccount?: string
  secretName?: string
  podName?: string
  /**
   * The bootstrap that made the call, whose wording the sentence uses;
   * without one, a kubeconfig's.
   */
  bootstrap?: BootstrapIdentity
}

/**
 * The API server as messages name it: scheme, host and port only. A
 * kubeconfig's server can carry a path or a query with a secret in it (a
 * Rancher-style proxy URL with a token), and the runner masks only whole
 * values, so the rest is never printed.
 */
export function serverName(server: string): string {
  try {
    const url = new URL(server)
    return `${url.protocol}//${url.host}`
  } catch {
    return 'its address'
  }
}

interface KubeStatus {
  message?: string
  reason?: string
  details?: { kind?: string; name?: string }
}

const TLS_CODES =
  /^(CERT_|UNABLE_TO_|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/
/** node:https's codes for a server it could not reach or that hung up. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE'
])

/** The HTTP status of a client-node ApiException, if that is what this is. */
export function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  // A DOMException (an aborted request) also has a numeric code: not HTTP.
  return typeof code === 'number' && code >= 100 && code <= 599
    ? code
    : undefined
}

function kubeStatus(error: unknown): KubeStatus {
  const body = (error as { body?: unknown } | null)?.body
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus
    } catch {
      return {}
    }
  }
  if (body && typeof body === 'object') return body
  return {}
}

/**
 * The socket or TLS error's code (ECONNRESET, CERT_HAS_EXPIRED, …), which
 * node:https puts on the error itself; an AggregateError of a connect to
 * several addresses carries its first error's.
 */
export function networkCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Codes that mean no connection was ever made, so no request was sent. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH'
])

/**
 * True for a failed TCP connect: Node names the syscall 'connect' (an
 * ETIMEDOUT there is a connect that timed out, not an unanswered request),
 * and a connect to several addresses (happy eyeballs) that all failed is an
 * AggregateError of such errors.
 */
function failedToConnect(error: unknown): boolean {
  if (error instanceof AggregateError) {
    return error.errors.length > 0 && error.errors.every(failedToConnect)
  }
  return (error as { syscall?: unknown } | null)?.syscall === 'connect'
}

/**
 * True when the request certainly did not take effect: the server refused it
 * (4xx), or no connection (or no trusted TLS session) was ever made. After a
 * timeout, a reset or a 5xx it may have.
 */
export function certainlyNotApplied(error: unknown): boolean {
  // An earlier attempt of the same call may have landed.
  if (historyOf(error)?.mayHaveApplied) return false
  // The credential was never obtained, so the request was never sent.
  if (error instanceof CredentialPluginError) return true
  const status = httpStatus(error)
  if (status !== undefined) return status >= 400 && status < 500
  if (failedToConnect(error)) return true
  const code = networkCode(error)
  return (
    code !== undefined && (NEVER_CONNECTED.has(code) || TLS_CODES.test(code))
  )
}

/** `system:serviceaccount:ci:minter` from an RBAC denial's `User "…"`, if present. */
function authorizerUser(status: KubeStatus): string | undefined {
  return /User "([^"]+)"/.exec(status.message ?? '')?.[1]
}

/** The denied user as a sentence names it. */
function deniedUser(status: KubeStatus): string {
  const user = authorizerUser(status)
  return user ? `'${user}'` : 'the bootstrap identity'
}

/** ', tried 6 times over 41 s' for a call that was retried, else ''. */
function triedText(error: unknown): string {
  const history = historyOf(error)
  if (!history || history.attempts < 2) return ''
  return `, tried ${history.attempts} times over ${Math.round(history.elapsedMs / 1000)} s`
}

function serverText(status: KubeStatus): string {
  const message = (status.message ?? '').replace(/\s+/g, ' ').trim()
  return message === '' ? '' : ` (the API server said: ${message})`
}

/**
 * Who refused with 403: RBAC, a ResourceQuota, an admission webhook or
 * policy, or the namespace lifecycle (a namespace being deleted). Each needs
 * a different fix, and only the API server's message tells them apart.
 */
function forbiddenBy(
  message: string
): 'rbac' | 'quota' | 'admission' | 'terminating' | 'unknown' {
  if (/because it is being terminated/.test(message)) return 'terminating'
  if (/exceeded quota|failed quota|status unknown for quota/.test(message)) {
    return 'quota'
  }
  // Authorizers (RBAC, and webhooks that reuse its wording) name the user.
  if (/User "[^"]*" cannot /.test(message)) return 'rbac'
  if (
    /admission webhook "[^"]*" denied|ValidatingAdmissionPolicy .* denied|denied (the )?request/.test(
      message
    )
  ) {
    return 'admission'
  }
  return 'unknown'
}

/** Each operation as the subject of a sentence: "Minting the token failed …". */
const FAILING: Record<FailedCall['operation'], string> = {
  mint: 'Minting the token',
  'create-secret': 'Creating the per-run Secret',
  'delete-secret': 'Deleting the per-run Secret',
  review: 'Checking the minted token'
}

/** Each operation as what was refused, naming its object: "… refused creating the per-run Secret". */
function refusedNoun(
  call: FailedCall
): Record<FailedCall['operation'], string> {
  return {
    mint: `the TokenRequest for ServiceAccount '${call.serviceAccount ?? ''}'`,
    'create-secret': 'creating the per-run Secret',
    'delete-secret': `deleting the per-run Secret '${call.secretName ?? ''}'`,
    review: "the minted token's self-checks"
  }
}

/** A refusal that RBAC did not decide, as one sentence; undefined otherwise. */
function notRbac(body: KubeStatus, call: FailedCall): ActionError | undefined {
  const by = forbiddenBy(body.message ?? '')
  if (by === 'rbac' || by === 'unknown') return undefined
  const ns = `namespace '${call.namespace}'`
  const what = refusedNoun(call)
  const said = serverText(body)
  switch (by) {
    case 'terminating':
      return new ActionError(
        `Namespace '${call.namespace}' is being deleted, so the API server ` +
          `refused ${what[call.operation]} in it${said}: wait until it is ` +
          `gone and recreate it, or set 'namespace' to another one.`
      )
    case 'quota':
      return new ActionError(
        `A ResourceQuota in ${ns} refused ${what[call.operation]}${said}: ` +
          `delete what earlier runs left there (kubectl delete secret -n ` +
          `${call.namespace} -l app.kubernetes.io/managed-by=${MANAGED_BY}) ` +
          `or ask the cluster admin to raise the quota` +
          `${call.operation === 'create-secret' ? ", or set 'bind-to: none'" : ''}.`
      )
    case 'admission':
      return new ActionError(
        `An admission webhook or policy refused ${what[call.operation]} in ` +
          `${ns}${said}: ask the cluster admin to allow it (the per-run ` +
          `Secret is labelled app.kubernetes.io/managed-by=${MANAGED_BY})` +
          `${call.operation === 'create-secret' ? ", or set 'bind-to: none'" : ''}.`
      )
  }
}

/**
 * Turn a failed Kubernetes call into one sentence a workflow author can act
 * on. Raw client errors carry response headers and bodies; none of that is
 * passed through except the server's own status message.
 */
export function describeApiError(
  error: unknown,
  call: FailedCall
): ActionError {
  const status = httpStatus(error)
  const ns = `namespace '${call.namespace}'`
  const tried = triedText(error)
  const wording = call.bootstrap?.wording ?? KUBECONFIG_WORDING
  if (status === undefined && isDeadlineError(error)) {
    const limit = (historyOf(error)?.attemptMs ?? ATTEMPT_MS) / 1000
    return new ActionError(
      `The API server at ${serverName(call.server)} did not answer within ${limit} s` +
        `${tried}: check that it is healthy and reachable from this runner, ` +
        `then re-run the job.`
    )
  }
  if (error instanceof CredentialPluginError) {
    return new ActionError(
      `The bootstrap kubeconfig's credential plugin (its current user's ` +
        `${error.plugin}) failed${error.outcome ? ` (${error.outcome})` : ''}, ` +
        `so no request was sent: check that its command is installed on this ` +
        `runner and works in this job's environment (its output is not shown, ` +
        `as it may hold secrets), or use a kubeconfig whose user holds a token ` +
        `or a client certificate.`
    )
  }
  if (status === undefined) {
    const code = networkCode(error)
    if (code && TLS_CODES.test(code)) {
      return new ActionError(
        `The API server at ${serverName(call.server)} presented a TLS certificate that ` +
          `could not be verified (${code}): put the cluster's CA in the ` +
          `${wording.caGoesIn}.`
      )
    }
    if (code && NETWORK_CODES.has(code)) {
      return new ActionError(
        `Could not reach the API server at ${serverName(call.server)} (${code})${tried}: ` +
          `check the ${wording.serverSetIn} ` +
          `and that this runner can reach it.`
      )
    }
    return new ActionError(
      `The request to the API server at ${serverName(call.server)} failed before an ` +
        `answer arrived${code ? ` (${code})` : ''}${tried}: check the server ` +
        `address and network path from this runner.`
    )
  }
  const body = kubeStatus(error)
  if (status === 429) {
    return new ActionError(
      `The API server at ${serverName(call.server)} kept refusing with HTTP 429 Too Many ` +
        `Requests${tried}: it is overloaded or limiting this identity, so ` +
        `re-run the job later, or ask the cluster admin about its API ` +
        `Priority and Fairness limits.`
    )
  }
  if (status === 401 && call.operation === 'review') {
    return new ActionError(
      `The API server at ${serverName(call.server)} does not accept the minted token ` +
        `(401 Unauthorized) for its self-checks: if 'audiences' is set, the ` +
        `token is for another service, so also set 'verify: false', ` +
        `'excess-privilege: off' and no 'expect-*' checks.`
    )
  }
  // Admission policies answer with 403, or 422 (a ValidatingAdmissionPolicy's
  // default reason) or whatever code they chose: recognise them by message,
  // whichever identity was refused.
  const refused = status < 500 ? notRbac(body, call) : undefined
  if (refused) return refused
  // The bootstrap's own words for a 401 or 403 (which identity it is, where
  // its fix goes); the minted token's self-checks are worded below.
  const byBootstrap =
    call.operation === 'review'
      ? undefined
      : wording.refusal({
          status,
          operation: call.operation,
          server: serverName(call.server),
          namespace: call.namespace,
          serviceAccount: call.serviceAccount,
          secretName: call.secretName,
          user: authorizerUser(body)
        })
  if (byBootstrap) return byBootstrap
  // A 403 whose message is not RBAC's own wording (another authorizer, say)
  // keeps the server's words next to the RBAC advice.
  let unusual = ''
  if (status === 403 && forbiddenBy(body.message ?? '') === 'unknown') {
    unusual = serverText(body)
  }
  switch (call.operation) {
    case 'mint':
      if (status === 403) {
        return new ActionError(
          `${deniedUser(body)} may not mint tokens for ServiceAccount ` +
            `'${call.serviceAccount ?? ''}' in ${ns}${unusual}: grant it 'create' on ` +
            `'serviceaccounts/token' there (see the README's RBAC section).`
        )
      }
      if (status === 404) {
        if (body.details?.kind === 'pods') {
          return new ActionError(
            `Pod '${call.podName ?? body.details.name ?? ''}' was not found in ` +
              `${ns}: fix 'bind-to: pod:<name>' or use 'bind-to: secret'.`
          )
        }
        return new ActionError(
          `ServiceAccount '${call.serviceAccount ?? ''}' was not found in ` +
            `${ns}: create it first, or fix 'service-account' / 'namespace'.`
        )
      }
      if (status === 400 && call.podName) {
        return new ActionError(
          `The token cannot be bound to Pod '${call.podName}'${serverText(body)}: ` +
            `the Pod must run as ServiceAccount '${call.serviceAccount ?? ''}', ` +
            `so fix 'bind-to' or use 'bind-to: secret'.`
        )
      }
      break
    case 'create-secret':
      if (status === 403) {
        return new ActionError(
          `${deniedUser(body)} may not create the per-run Secret that makes ` +
            `revocation possible in ${ns}${unusual}: grant it 'create' and 'delete' on ` +
            `'secrets' there, or set 'bind-to: none' (no revocation) or ` +
            `'bind-to: pod:<name>'.`
        )
      }
      if (status === 404) {
        return new ActionError(
          `Namespace '${call.namespace}' does not exist: create it or fix the ` +
            `'namespace' input.`
        )
      }
      break
    case 'delete-secret':
      if (status === 403) {
        return new ActionError(
          `${deniedUser(body)} may not delete the per-run Secret ` +
            `'${call.secretName ?? ''}' in ${ns}${unusual}, so the token stays valid ` +
            `until it expires: grant it 'delete' on 'secrets' there.`
        )
      }
      break
    case 'review':
      if (status === 403) {
        return new ActionError(
          `The minted token may not run its self-checks in ${ns}` +
            `${serverText(body)}: the ServiceAccount needs the default ` +
            `'system:basic-user' permissions.`
        )
      }
      break
  }
  const what = FAILING
  if (status >= 500) {
    return new ActionError(
      `${what[call.operation]} failed with HTTP ${status}${serverText(body)}` +
        `${tried}: the API server at ${serverName(call.server)} is failing or restarting, ` +
        `so re-run the job once it is healthy.`
    )
  }
  return new ActionError(
    `${what[call.operation]} failed with HTTP ${status}${serverText(body)}` +
      `${tried}: check the inputs and the bootstrap identity's permissions ` +
      `in ${ns}.`
  )
}
