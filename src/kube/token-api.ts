import { CALL_TIMEOUT_MS, withDeadline, within } from './deadline.js'
import { AuthenticationV1Api, AuthorizationV1Api } from './endpoints.js'
import {
  type ConfigurationOptions,
  type KubeConfig,
  type V1ResourceRule
} from '@kubernetes/client-node'
import type { AccessCheck } from '../proof/can-i-lines.js'

export interface Identity {
  username: string
  groups: string[]
  extra: Record<string, string[]>
}

export interface RulesReview {
  rules: V1ResourceRule[]
  incomplete: boolean
}

/**
 * Calls made *as the minted token*: who am I, may I, what may I. Every
 * authenticated identity may make them (the default system:basic-user role).
 */
export interface TokenApi {
  readonly server: string
  whoami(): Promise<Identity>
  canI(check: AccessCheck): Promise<boolean>
  rules(namespace: string): Promise<RulesReview>
}

export function connectAsToken(
  kc: KubeConfig,
  timeoutMs: number = CALL_TIMEOUT_MS
): TokenApi {
  const options = (): ConfigurationOptions => withDeadline(timeoutMs)
  const authn = kc.makeApiClient(AuthenticationV1Api)
  const authz = kc.makeApiClient(AuthorizationV1Api)
  return {
    server: kc.getCurrentCluster()?.server ?? '(unknown server)',

    async whoami(): Promise<Identity> {
      const review = await within(
        timeoutMs,
        authn.createSelfSubjectReview(
          {
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'SelfSubjectReview'
            }
          },
          options()
        )
      )
      const user = review.status?.userInfo
      return {
        username: user?.username ?? '',
        groups: user?.groups ?? [],
        extra: user?.extra ?? {}
      }
    },

    async canI(check): Promise<boolean> {
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
      const review = await within(
        timeoutMs,
        authz.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec
            }
          },
          options()
        )
      )
      return review.status?.allowed === true && review.status.denied !== true
    },

    async rules(namespace): Promise<RulesReview> {
      const review = await within(
        timeoutMs,
        authz.createSelfSubjectRulesReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectRulesReview',
              spec: { namespace }
            }
          },
          options()
        )
      )
      return {
        rules: review.status?.resourceRules ?? [],
        incomplete: review.status?.incomplete ?? true
      }
    }
  }
}
