import { ActionError } from '../errors.js'
import { decodeClaims, jwtPayload } from '../jwt-claims.js'
import { maskSecret } from '../masking.js'
import { httpStatus } from '../kube/api-errors.js'
import { connect } from '../kube/cluster-api.js'
import type { CallBounds } from '../kube/deadline.js'
import { fetchIdToken } from '../kube/bootstrap/id-token.js'
import { openInCluster } from '../kube/bootstrap/in-cluster.js'
import { oidcKubeConfig } from '../kube/bootstrap/oidc.js'
import { refuseDisabledTlsChecks } from '../kube/bootstrap/kubeconfig.js'
import type { KubeConfig } from '@kubernetes/client-node'
import { failureReason } from '../kube/retry.js'
import type { Minted } from './credential.js'
import type { RenewalConfig } from './state.js'

// One renewal: at most one ID-token request and one TokenRequest, no
// retries (the client that asked retries, or the next one does), all
// within 40 s. Loaded only when a renewal is due, so a cache hit never
// parses client-node.

function renewalBounds(now = Date.now()): CallBounds {
  return {
    attemptMs: 15_000,
    attempts: 1,
    callMs: 15_000,
    endsAt: now + 40_000
  }
}

/**
 * The client that mints: with a fresh ID token, or as the runner pod's
 * ServiceAccount, whose token file client-node reads again for the request
 * (the kubelet rotates it), at the server main used, with the pod's CA.
 */
async function bootstrapClient(
  config: RenewalConfig,
  bounds: CallBounds
): Promise<KubeConfig> {
  if (config.bootstrap.kind === 'oidc') {
    const idToken = await fetchIdToken(config.bootstrap.audience, bounds)
    return oidcKubeConfig(
      { server: config.server, caData: config.caData },
      idToken
    )
  }
  if (config.bootstrap.kind === 'env') {
    return oidcKubeConfig(
      { server: config.server, caData: config.caData },
      idTokenFromEnv(config.bootstrap.variable)
    )
  }
  return openInCluster({ server: config.server }).kc
}

/**
 * The ID token in `variable` of the helper's own environment: the client
 * passes the job's environment on, so only a client run in the job's
 * script, where the CI sets it, has one. Never the value in a sentence.
 */
export function idTokenFromEnv(
  variable: string,
  env: NodeJS.ProcessEnv = process.env
): string {
  const token = env[variable]?.trim() ?? ''
  if (token === '') {
    throw new ActionError(
      `The environment variable ${variable} is missing or empty in the ` +
        `command that ran the credential helper, so no token was renewed: ` +
        `run kubectl in the job's script, where the CI sets ${variable} ` +
        `(GitLab: id_tokens:).`
    )
  }
  // renewal.json (any process that can write the directory) names the
  // variable: only an ID token is ever sent, never another secret of the
  // job's environment (a CI job token, a cloud key) that the name points at.
  if (!isIdToken(token)) {
    throw new ActionError(
      `The environment variable ${variable} does not hold an ID token (a ` +
        `JWT with an audience), so it was sent nowhere and no token was ` +
        `renewed: set it from the CI's ID token (GitLab: id_tokens:).`
    )
  }
  maskSecret(token)
  return token
}

/** Three base64url parts whose payload names an audience: an ID token's shape. */
function isIdToken(token: string): boolean {
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return false
  try {
    const { aud } = jwtPayload(token) as { aud?: unknown }
    return Array.isArray(aud)
      ? aud.length > 0 && aud.every((a) => typeof a === 'string' && a !== '')
      : typeof aud === 'string' && aud !== ''
  } catch {
    return false
  }
}

/** NODE_TLS_REJECT_UNAUTHORIZED=0, refused in the helper's own words. */
function refuseTlsOff(): void {
  try {
    refuseDisabledTlsChecks()
  } catch {
    throw new ActionError(
      `NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment of the ` +
        `command that ran the credential helper, which would turn off ` +
        `certificate checks for the job's credential and the new token, so ` +
        `no token was renewed: remove it from that step's environment (the ` +
        `kubeconfig already carries the cluster's CA).`
    )
  }
}

function refused(config: RenewalConfig, error: unknown): ActionError {
  const status = httpStatus(error)
  const sa = `${config.namespace}/${config.serviceAccount}`
  const who =
    config.bootstrap.kind === 'oidc'
      ? `the job's GitHub ID token (audience '${config.bootstrap.audience}')`
      : config.bootstrap.kind === 'env'
        ? `the ID token in ${config.bootstrap.variable}`
        : `the runner pod's ServiceAccount token`
  const raw = (error as { body?: unknown } | null)?.body
  const body = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '')
  if (status === 401 && config.bootstrap.kind === 'env') {
    return new ActionError(
      `The API server refused ${who} (HTTP 401), so no token was renewed: ` +
        `it may have expired (GitLab's lives as long as the job's timeout), ` +
        `or the cluster no longer trusts its issuer; re-run the job.`
    )
  }
  if (status === 401) {
    return new ActionError(
      `The API server refused ${who} (HTTP 401), so no token was renewed: ` +
        `check that the cluster still trusts it, then re-run the job.`
    )
  }
  if (status === 403) {
    return new ActionError(
      `The API server forbade ${who} to create a token for ServiceAccount ` +
        `${sa} (HTTP 403), so no token was renewed: grant it 'create' on ` +
        `'serviceaccounts/token' in namespace ${config.namespace}.`
    )
  }
  if ((status === 404 && /"secrets"/.test(body)) || status === 409) {
    return new ActionError(
      `The per-run Secret ${config.namespace}/${config.secret.name} is gone ` +
        `or was replaced (the post step ran, or someone deleted it), which ` +
        `revoked every token of this job, so none is renewed: use the ` +
        `kubeconfig only between the action's step and the end of the job.`
    )
  }
  if (status === 404) {
    return new ActionError(
      `ServiceAccount ${sa} does not exist (HTTP 404), so no token was ` +
        `renewed: create it, or check the action's 'service-account' input.`
    )
  }
  if (status !== undefined) {
    return new ActionError(
      `The TokenRequest for ServiceAccount ${sa} failed (HTTP ${status}), ` +
        `so no token was renewed: run the command again.`
    )
  }
  return new ActionError(
    `The TokenRequest for ServiceAccount ${sa} got no answer ` +
      `(${failureReason(error, 15_000)}), so no token was renewed: check ` +
      `that the runner reaches ${new URL(config.server).host}, then run the ` +
      `command again.`
  )
}

/** Mint one token for `config`, bound to its Secret by name and uid. */
export async function mintRenewal(
  config: RenewalConfig,
  seconds: number
): Promise<Minted> {
  // Before any request, on both paths: with certificate checks off, a
  // proxy or server in the middle would get the ID token (and its request
  // token) or the pod's ServiceAccount token.
  refuseTlsOff()
  const bounds = renewalBounds()
  const kc = await bootstrapClient(config, bounds)
  const api = connect(kc, bounds)
  let issued
  try {
    issued = await api.requestToken(config.namespace, config.serviceAccount, {
      audiences: config.audiences,
      expirationSeconds: seconds,
      boundObjectRef: {
        apiVersion: 'v1',
        kind: 'Secret',
        name: config.secret.name,
        uid: config.secret.uid
      }
    })
  } catch (error) {
    throw refused(config, error)
  }
  maskSecret(issued.token)
  const claims = decodeClaims(issued.token)
  // The token must be the one asked for: bound to this run's Secret (so
  // post's delete revokes it) and with a known expiry.
  if (
    claims.boundSecret?.uid !== config.secret.uid ||
    claims.boundSecret.name !== config.secret.name ||
    !claims.exp ||
    !claims.jti
  ) {
    throw new ActionError(
      `The API server returned a token that is not bound to the per-run ` +
        `Secret ${config.namespace}/${config.secret.name} or has no expiry or ` +
        `id, so it was not used: check the cluster's TokenRequest support.`
    )
  }
  // How long it lives, as granted (a cluster maximum may shorten it): the
  // helper counts it on this machine's clock, which is the one the client
  // compares expirationTimestamp with.
  const granted =
    issued.grantedSeconds ?? claims.exp - (claims.iat ?? claims.exp - seconds)
  return {
    token: issued.token,
    grantedSeconds: granted,
    credentialId: claims.jti
  }
}
