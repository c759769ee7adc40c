import { host } from '../ports.js'
import type { V1BoundObjectReference } from '@kubernetes/client-node'
import {
  perRunSecretManifest,
  perRunSecretName,
  type PerRunSecretRef
} from './per-run-secret.js'
import type { ClusterApi, IssuedToken } from '../kube/cluster-api.js'
import {
  certainlyNotApplied,
  describeApiError,
  serverName,
  type FailedCall
} from '../kube/api-errors.js'
import { formatDuration } from './duration.js'
import { ActionError } from '../errors.js'
import { decodeClaims } from '../jwt-claims.js'
import type { Lifetime } from './lifetime.js'
import { maskSecret, redact } from '../masking.js'
import type { RunRecord } from '../run-record.js'
import { rfc3339 } from '../kube/formats.js'

/** What the token is bound to: the per-run Secret, nothing, or a Pod. */
export type BindTo =
  { kind: 'secret' } | { kind: 'none' } | { kind: 'pod'; name: string }

/** What to mint: a token for `serviceAccount` in `namespace`. */
export interface MintRequest {
  serviceAccount: string
  namespace: string
  audiences: string[]
  bindTo: BindTo
  /** Who makes the per-run Secret, in its name; the action's run when absent. */
  nameScope?: string
  /**
   * With renewal: each token's lifetime (`renew-every`, at most the window).
   * The per-run Secret still records the whole window (`lifetime`).
   */
  tokenSeconds?: number
}

export interface MintedToken {
  token: string
  /** `system:serviceaccount:<namespace>:<name>` */
  username: string
  expiration: Date
  /** Seconds from mint to expiry, as granted by the API server. */
  expiresIn: number
  /** The JWT's `jti`, which the API server's audit log records. */
  credentialId: string
  /** What the token is bound to, in words. */
  boundTo: string
  /** The Secret the token says it is bound to (its own claims). */
  boundSecret?: { name: string; uid: string }
}

/**
 * Create the per-run Secret (state first, so post can delete it even if we
 * die right after) and return the reference the token is bound to.
 */
async function bindTarget(
  api: ClusterApi,
  inputs: MintRequest,
  lifetime: Lifetime,
  record: RunRecord
): Promise<V1BoundObjectReference | undefined> {
  const bind = inputs.bindTo
  if (bind.kind === 'none') return undefined
  if (bind.kind === 'pod') {
    return { apiVersion: 'v1', kind: 'Pod', name: bind.name }
  }
  const anchor: PerRunSecretRef = {
    namespace: inputs.namespace,
    name: perRunSecretName(process.env, inputs.nameScope)
  }
  record.perRunSecretPlanned(anchor)
  const expiresAt = new Date(Date.now() + lifetime.seconds * 1000)
  try {
    const created = await api.createSecret(
      inputs.namespace,
      perRunSecretManifest(anchor, inputs.serviceAccount, expiresAt)
    )
    anchor.uid = created.metadata?.uid
  } catch (error) {
    // Refused, or never connected: nothing exists, so forget it. After a
    // timeout or 5xx the Secret may exist; keep it so cleanup deletes it.
    if (certainlyNotApplied(error)) record.perRunSecretNotCreated()
    throw describeApiError(error, {
      operation: 'create-secret',
      server: api.server,
      namespace: inputs.namespace,
      serviceAccount: inputs.serviceAccount,
      bootstrap: api.bootstrap
    })
  }
  record.perRunSecretCreated(anchor.uid)
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    name: anchor.name,
    uid: anchor.uid
  }
}

function describeBinding(
  ref: V1BoundObjectReference | undefined,
  ns: string
): string {
  return ref
    ? `${ref.kind ?? ''} ${ns}/${ref.name ?? ''}`
    : 'nothing (bind-to: none)'
}

/** Bind, mint, mask at once, and read what the server actually granted. */
export async function mintToken(
  api: ClusterApi,
  inputs: MintRequest,
  lifetime: Lifetime,
  record: RunRecord
): Promise<MintedToken> {
  const boundObjectRef = await bindTarget(api, inputs, lifetime, record)
  const call: FailedCall = {
    operation: 'mint',
    server: api.server,
    namespace: inputs.namespace,
    serviceAccount: inputs.serviceAccount,
    podName: inputs.bindTo.kind === 'pod' ? inputs.bindTo.name : undefined,
    bootstrap: api.bootstrap
  }
  const requested = inputs.tokenSeconds ?? lifetime.seconds
  let issued: IssuedToken
  try {
    issued = await api.requestToken(inputs.namespace, inputs.serviceAccount, {
      audiences: inputs.audiences,
      expirationSeconds: requested,
      ...(boundObjectRef ? { boundObjectRef } : {})
    })
  } catch (error) {
    throw describeApiError(error, call)
  }
  // Mask before anything else is printed.
  maskSecret(issued.token)
  if (issued.token === '') {
    throw new ActionError(
      `The API server answered the TokenRequest without a token: check that ` +
        `${serverName(api.server)} serves the TokenRequest API.`
    )
  }
  for (const warning of issued.warnings) {
    host().warning(redact(`The API server warned: ${warning}`))
  }
  const claims = decodeClaims(issued.token)
  // A retried create that found its Secret made returns no uid; the token
  // names the uid it was bound to, which post's delete then requires.
  const bound = claims.boundSecret
  if (
    boundObjectRef?.kind === 'Secret' &&
    !boundObjectRef.uid &&
    bound !== undefined &&
    bound.name === boundObjectRef.name
  ) {
    record.perRunSecretCreated(bound.uid)
  }
  const issuedAt = claims.iat ? claims.iat * 1000 : Date.now()
  const stated =
    issued.expirationTimestamp ??
    (claims.exp ? new Date(claims.exp * 1000) : undefined)
  if (!stated) {
    throw new ActionError(
      'The API server returned a token without an expiration: refusing to use a token whose lifetime is unknown.'
    )
  }
  // A Pod-bound token asked for exactly 3607 s (inputs refuse that, but a
  // cluster maximum of 3607 s shortens other requests to it) is silently
  // extended to a year in its `exp` claim while the status still says 1 h.
  if (claims.exp && claims.exp * 1000 > stated.getTime() + 60_000) {
    const exp = rfc3339(new Date(claims.exp * 1000))
    throw new ActionError(
      `The API server extended the token to ${exp} (its exp claim), far past ` +
        `the reported ${rfc3339(stated)} (--service-account-extend-token-expiration ` +
        `applies to Pod-bound tokens of exactly 3607s), so it was not handed ` +
        `out (deleting the Pod it is bound to revokes it): set 'duration' to ` +
        `1h or less, or use 'bind-to: secret'.`
    )
  }
  const expiration = stated
  const expiresIn =
    issued.grantedSeconds ??
    Math.round((expiration.getTime() - issuedAt) / 1000)
  if (expiresIn !== requested) {
    const input = inputs.tokenSeconds === undefined ? 'duration' : 'renew-every'
    host().warning(
      `The API server granted ${formatDuration(expiresIn)} instead of the ` +
        `requested ${formatDuration(requested)} (a cluster maximum such as ` +
        `--service-account-max-token-expiration): the token expires at ` +
        `${rfc3339(expiration)}, so set '${input}' to at most ` +
        `${formatDuration(expiresIn)} or ask the cluster admin to raise the limit.`
    )
  }
  return {
    token: issued.token,
    username: `system:serviceaccount:${inputs.namespace}:${inputs.serviceAccount}`,
    expiration,
    expiresIn,
    credentialId: claims.jti ?? '',
    boundTo: describeBinding(boundObjectRef, inputs.namespace),
    ...(bound ? { boundSecret: bound } : {})
  }
}
