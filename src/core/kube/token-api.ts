import { mainBounds, type CallBounds } from './deadline.js'
import {
  ApisApi,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi
} from './endpoints.js'
import { withRetries } from './retry.js'
import {
  type KubeConfig,
  type V1NonResourceRule,
  type V1ResourceRule
} from '@kubernetes/client-node'

export interface Identity {
  username: string
  groups: string[]
  extra: Record<string, string[]>
}

interface RulesReview {
  rules: V1ResourceRule[]
  /** Rules for URLs outside the resource API (/metrics, /logs, ...). */
  nonResourceRules?: V1NonResourceRule[]
  incomplete: boolean
}

/**
 * One SelfSubjectAccessReview question, as the proof parses it from an
 * 'expect-allowed' or 'expect-denied' line (proof/can-i-lines.ts).
 */
export interface AccessCheck {
  /** The input the line came from, for messages. */
  input: string
  /** The line as written, for messages. */
  line: string
  verb: string
  /** Plural resource name, or '' for a non-resource URL. */
  resource: string
  group: string
  subresource: string
  name: string
  /** '' means all namespaces (or a cluster-scoped resource). */
  namespace: string
  /** The resource lives outside namespaces. */
  clusterScoped: boolean
  /** Set for non-resource URLs such as /healthz. */
  path: string
  /**
   * True when the resource, subresource or scope is not in the action's own
   * tables: the API server's discovery must confirm it before the check is
   * asked, so that a typo is an error rather than a vacuous "denied".
   */
  needsDiscovery: boolean
}

/** A resource an API group serves, as discovery lists it. */
export interface Served {
  name: string
  namespaced: boolean
  singularName?: string
  shortNames?: string[]
}

/** An access review's answer. */
export interface AccessDecision {
  allowed: boolean
  /** The authorizer's evaluationError: set when it could not decide cleanly. */
  error?: string
}

/**
 * Calls made *as the minted token*: who am I, may I, what may I. Every
 * authenticated identity may make them (the default system:basic-user role).
 */
export interface TokenApi {
  readonly server: string
  whoami(): Promise<Identity>
  canI(check: AccessCheck): Promise<AccessDecision>
  rules(namespace: string): Promise<RulesReview>
  /**
   * Discovery: what the group ('' for core) serves in its preferred version,
   * or undefined when the API server serves no such group. Every
   * authenticated identity may ask (system:discovery).
   */
  resources(group: string): Promise<Served[] | undefined>
}

export function connectAsToken(
  kc: KubeConfig,
  bounds: CallBounds = mainBounds()
): TokenApi {
  const authn = kc.makeApiClient(AuthenticationV1Api)
  const authz = kc.makeApiClient(AuthorizationV1Api)
  let groups: Promise<Map<string, string>> | undefined
  /** Each group's preferred version, asked once. */
  const preferredVersions = (): Promise<Map<string, string>> => {
    groups ??= withRetries('API discovery', bounds, (signal) =>
      kc.makeApiClient(ApisApi).getAPIVersions(signal)
    ).then(
      (list) =>
        new Map(
          list.groups.map((g) => [
            g.name,
            g.preferredVersion?.version ?? g.versions[0]?.version ?? ''
          ])
        )
    )
    return groups
  }
  return {
    server: kc.getCurrentCluster()?.server ?? '(unknown server)',

    async whoami(): Promise<Identity> {
      const review = await withRetries('SelfSubjectReview', bounds, (signal) =>
        authn.createSelfSubjectReview(
          {
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'SelfSubjectReview'
            }
          },
          signal
        )
      )
      const user = review.status?.userInfo
      return {
        username: user?.username ?? '',
        groups: user?.groups ?? [],
        extra: user?.extra ?? {}
      }
    },

    async canI(check): Promise<AccessDecision> {
      const spec = check.path
        ? { nonResourceAttributes: { path: check.path, verb: check.verb } }
        : {
            resourceAttributes: {
              verb: check.verb,
              resource: check.resource,
              group: check.group,
              subresource: check.subresource || undefined,
              name: check.name || undefined,
              namespace: check.namespace || undefined
            }
          }
      const review = await withRetries(
        'SelfSubjectAccessReview',
        bounds,
        (signal) =>
          authz.createSelfSubjectAccessReview(
            {
              body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SelfSubjectAccessReview',
                spec
              }
            },
            signal
          )
      )
      return {
        allowed:
          review.status?.allowed === true && review.status.denied !== true,
        error: review.status?.evaluationError || undefined
      }
    },

    async rules(namespace): Promise<RulesReview> {
      const review = await withRetries(
        `SelfSubjectRulesReview in ${namespace}`,
        bounds,
        (signal) =>
          authz.createSelfSubjectRulesReview(
            {
              body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SelfSubjectRulesReview',
                spec: { namespace }
              }
            },
            signal
          )
      )
      return {
        rules: review.status?.resourceRules ?? [],
        nonResourceRules: review.status?.nonResourceRules ?? [],
        incomplete: review.status?.incomplete ?? true
      }
    },

    async resources(group): Promise<Served[] | undefined> {
      let list
      if (group === '') {
        list = await withRetries('API discovery', bounds, (signal) =>
          kc.makeApiClient(CoreV1Api).getAPIResources(signal)
        )
      } else {
        const version = (await preferredVersions()).get(group)
        if (!version) return undefined
        list = await withRetries(
          `API discovery of ${group}`,
          bounds,
          (signal) =>
            kc
              .makeApiClient(CustomObjectsApi)
              .getAPIResources({ group, version }, signal)
        )
      }
      return list.resources.map((r) => ({
        name: r.name,
        namespaced: r.namespaced,
        singularName: r.singularName,
        shortNames: r.shortNames
      }))
    }
  }
}
