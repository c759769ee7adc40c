import type { KubeConfig } from '@kubernetes/client-node'
import type { ActionError } from '../../errors.js'
import type { CallBounds } from '../deadline.js'

// The one interface every bootstrap kind implements (one file per kind in
// this folder, registered in index.ts), as google-github-actions/auth's
// src/client/ has one class per auth mode. This file is the folder's leaf:
// it imports only types, so api-errors.ts can name a Bootstrap without a
// cycle.

/**
 * Where the identity that mints comes from, as main saves it so that post
 * (or a later process) reopens the same one, never through the KUBECONFIG
 * main pointed at the minted token. A new kind adds its shape here.
 */
export type BootstrapSource =
  /** A kubeconfig stored as a secret, given as content. */
  | { kind: 'input' }
  /** KUBECONFIG, or ~/.kube/config. */
  | { kind: 'files'; paths: string[] }
  | { kind: 'in-cluster' }
  /** The job's GitHub ID token; post fetches a fresh one, no token is saved. */
  | { kind: 'oidc'; audience: string }

export interface BootstrapRef<S extends BootstrapSource = BootstrapSource> {
  source: S
  /** Context to use; '' means the kubeconfig's current context. */
  context: string
  /** The API server main used; post refuses to clean up anywhere else. */
  server?: string
}

/**
 * A refused call of the bootstrap's own (never the minted token's), as a
 * kind's wording sees it. `server` is already as messages name it.
 */
export interface Refusal {
  status: number
  operation: 'mint' | 'create-secret' | 'delete-secret'
  server: string
  namespace: string
  serviceAccount?: string
  secretName?: string
  /** The user an authorizer named in its denial, if it did. */
  user?: string
}

/** How a kind's errors read: where its fixes go. */
export interface BootstrapWording {
  /** Where the cluster's CA goes: "the kubeconfig's certificate-authority-data". */
  caGoesIn: string
  /** Where the server is set: "server address in the kubeconfig". */
  serverSetIn: string
  /**
   * The sentence for a 401 or 403 on one of the bootstrap's calls when this
   * kind words it itself (after quota, admission and terminating namespace,
   * which read the same for every kind); undefined for the general one.
   */
  refusal(refusal: Refusal): ActionError | undefined
}

/** An opened bootstrap: the client configuration and who it is. */
export interface Bootstrap {
  /** What main saves, and post or a later process reopens from. */
  readonly ref: BootstrapRef
  /** In memory only: the OIDC kind's holds the ID token. */
  readonly kc: KubeConfig
  /** Who mints, as a sentence names it: "the 'kubeconfig' input". */
  describe(): string
  readonly wording: BootstrapWording
}

/**
 * What main's inputs (or another front door's flags) say about the
 * bootstrap; each kind reads its part.
 */
export interface BootstrapRequest {
  /** A stored kubeconfig's content, exactly as given; '' when none. */
  kubeconfig: string
  /** Context to use; '' means the kubeconfig's current context. */
  context: string
  /** The OIDC kind's values, when given. */
  oidc?: { audience: string; server: string; caData: string }
  env: NodeJS.ProcessEnv
}

/** What post has besides the saved ref: its own inputs, read again. */
interface ReopenRequest {
  kubeconfig: string
  /** The OIDC kind's CA data, read only when that kind reopens. */
  caData: () => string
  env: NodeJS.ProcessEnv
}

/** One bootstrap kind: found, opened in main, reopened in post. */
export interface BootstrapKind<S extends BootstrapSource = BootstrapSource> {
  readonly kind: S['kind']
  /**
   * Main: this kind's source when the request gives it, else undefined;
   * index.ts asks the kinds in the documented order. May throw InputError
   * when the request points at something this kind must refuse.
   */
  find(request: BootstrapRequest): S | undefined
  /**
   * Main: load, check and mask it; what is wrong with its inputs is an
   * InputError before any call to the API server.
   */
  open(
    ref: BootstrapRef<S>,
    request: BootstrapRequest,
    bounds: CallBounds
  ): Promise<Bootstrap>
  /** Post: the identity main saved, at the server it saved. */
  reopen(
    ref: BootstrapRef<S>,
    request: ReopenRequest,
    bounds: CallBounds
  ): Promise<Bootstrap>
}

/** What a failed call's sentence needs of the bootstrap that made it. */
export type BootstrapIdentity = Pick<Bootstrap, 'describe' | 'wording'>
