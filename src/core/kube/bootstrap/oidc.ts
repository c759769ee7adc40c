import { KubeConfig } from '@kubernetes/client-node'
import { ActionError } from '../../errors.js'
import type { CallBounds } from '../deadline.js'
import { fetchIdToken, issuerOf } from './id-token.js'
import type {
  Bootstrap,
  BootstrapKind,
  BootstrapRef,
  BootstrapWording,
  Refusal
} from './kind.js'
import { refuseDisabledTlsChecks } from './kubeconfig.js'

type OidcSource = { kind: 'oidc'; audience: string }

/**
 * The zero-secret bootstrap: mint with the job's GitHub ID token for
 * `audience`, as a bearer token against `server`, trusting `caData`.
 */
export interface OidcInput {
  audience: string
  /** `https://` URL of the API server. */
  server: string
  /** Base64 PEM CA bundle of that server, as a kubeconfig carries it. */
  caData: string
}

/** The OIDC bootstrap, opened: who it speaks for (never the token). */
export interface OidcBootstrap extends Bootstrap {
  readonly audience: string
  /** The ID token's issuer, which the cluster must trust. */
  readonly issuer: string
}

/**
 * A client configuration that exists only in memory: the server, its CA
 * and the ID token as bearer. It is never serialised, so the ID token never
 * reaches a file (the scanner's kubeconfig gets the CA and server only).
 */
export function oidcKubeConfig(
  target: Pick<OidcInput, 'server' | 'caData'>,
  idToken: string
): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'oidc-bootstrap',
        server: target.server,
        caData: target.caData,
        skipTLSVerify: false
      }
    ],
    users: [{ name: 'github-id-token', token: idToken }],
    contexts: [
      {
        name: 'oidc-bootstrap',
        cluster: 'oidc-bootstrap',
        user: 'github-id-token'
      }
    ],
    currentContext: 'oidc-bootstrap'
  })
  return kc
}

/**
 * The OIDC bootstrap's refusals. Every refused ID token gets the same 401
 * body, whatever the cause (issuer, audience, a claim rule, expiry), so the
 * sentence names both things to check. A 403 that no quota, admission
 * policy or terminating namespace explains (asked first, in api-errors.ts)
 * means the token was accepted and RBAC said no: name the user it was
 * mapped to and the Role it needs.
 */
export function oidcWording(
  audience: string,
  issuer: string
): BootstrapWording {
  return {
    caGoesIn: `'certificate-authority-data' input`,
    serverSetIn: `'server' input`,
    refusal(refusal: Refusal): ActionError | undefined {
      if (refusal.status === 401) {
        return new ActionError(
          `The API server at ${refusal.server} rejected the job's GitHub ID token ` +
            `(401 Unauthorized): either it does not trust the issuer ` +
            `${issuer} for this repository and workflow, or it does not ` +
            `accept the audience '${audience}', so add a JWT authenticator ` +
            `for that issuer and audience (with claim rules that admit this job) ` +
            `to its AuthenticationConfiguration, or set 'oidc-audience' to the ` +
            `audience it expects.`
        )
      }
      if (refusal.status !== 403) return undefined
      const who = refusal.user
        ? `'${refusal.user}', the user the API server maps this job's GitHub ID token to,`
        : `The user the API server maps this job's GitHub ID token to`
      const ns = `namespace '${refusal.namespace}'`
      const role =
        `bind that User to a Role that allows 'create' on ` +
        `'serviceaccounts/token' with resourceNames ` +
        `['${refusal.serviceAccount ?? '<service-account>'}'] and 'create' and ` +
        `'delete' on 'secrets' in that namespace (see 'RBAC for the mapped user' in the README)`
      switch (refusal.operation) {
        case 'mint':
          return new ActionError(
            `${who} may not mint tokens for ServiceAccount ` +
              `'${refusal.serviceAccount ?? ''}' in ${ns}: ${role}.`
          )
        case 'create-secret':
          return new ActionError(
            `${who} may not create the per-run Secret in ${ns}: ${role}.`
          )
        case 'delete-secret':
          return new ActionError(
            `${who} may not delete the per-run Secret '${refusal.secretName ?? ''}' ` +
              `in ${ns}, so the token stays valid until it expires: grant that ` +
              `User 'delete' on 'secrets' there.`
          )
      }
    }
  }
}

/**
 * Open the OIDC bootstrap from plain values and the environment (the
 * runner's ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN): fetch (and mask) an ID
 * token for the audience and build the in-memory client for it. Usable from
 * any process; `ref` is what main saves.
 */
export async function openOidc(
  values: OidcInput,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv = process.env
): Promise<OidcBootstrap> {
  refuseDisabledTlsChecks(`'certificate-authority-data'`, env)
  const { audience, server, caData } = values
  const idToken = await fetchIdToken(audience, bounds, env)
  const issuer = issuerOf(idToken)
  const ref: BootstrapRef = {
    source: { kind: 'oidc', audience },
    context: '',
    server
  }
  return {
    ref,
    kc: oidcKubeConfig({ server, caData }, idToken),
    describe: () => `the job's GitHub ID token`,
    wording: oidcWording(audience, issuer),
    audience,
    issuer
  }
}

/**
 * The job's GitHub ID token (inputs 'oidc-audience', 'server' and
 * 'certificate-authority-data'). It comes first: given, it is the one
 * that mints (the inputs refuse a stored kubeconfig beside it). Post
 * fetches a fresh ID token for the saved audience and server, with the CA
 * data read from its inputs again.
 */
export const oidc: BootstrapKind<OidcSource> = {
  kind: 'oidc',
  find: (request) =>
    request.oidc
      ? { kind: 'oidc', audience: request.oidc.audience }
      : undefined,
  async open(_ref, request, bounds) {
    if (!request.oidc) throw new Error('the OIDC inputs are not given')
    return openOidc(request.oidc, bounds, request.env)
  },
  async reopen(ref, request, bounds) {
    if (!ref.server) throw new Error('the main step saved no server')
    refuseDisabledTlsChecks(`'certificate-authority-data'`, request.env)
    const opened = await openOidc(
      {
        audience: ref.source.audience,
        server: ref.server,
        caData: request.caData()
      },
      bounds,
      request.env
    )
    return { ...opened, ref }
  }
}
