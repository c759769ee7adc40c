import { httpStatus } from './api-errors.js'
import { CALL_TIMEOUT_MS, withDeadline, within } from './deadline.js'
import { CoreV1Api } from './endpoints.js'
import {
  type ConfigurationOptions,
  type KubeConfig,
  type V1BoundObjectReference,
  type V1Secret
} from '@kubernetes/client-node'

export interface TokenSpec {
  audiences: string[]
  expirationSeconds: number
  boundObjectRef?: V1BoundObjectReference
}

export interface IssuedToken {
  token: string
  expirationTimestamp?: Date
  /** The lifetime the server granted (after any cluster maximum). */
  grantedSeconds?: number
  /** Warning headers the API server sent with the response. */
  warnings: string[]
}

/**
 * The few Kubernetes calls the action makes, in one place so that unit tests
 * can replace them and every call goes through client-node in-process (never
 * a command line that could carry a credential).
 */
export interface ClusterApi {
  readonly server: string
  createSecret(namespace: string, body: V1Secret): Promise<V1Secret>
  /** Deletes the Secret; 'absent' when it was already gone. */
  deleteSecret(
    namespace: string,
    name: string,
    uid?: string
  ): Promise<'deleted' | 'absent'>
  requestToken(
    namespace: string,
    serviceAccount: string,
    spec: TokenSpec
  ): Promise<IssuedToken>
}

/** Split `Warning:` headers (`299 - "text", 299 - "more"`) into their texts. */
export function parseWarningHeader(header: string | undefined): string[] {
  if (!header) return []
  const texts: string[] = []
  for (const match of header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) {
    if (match[1] !== undefined) texts.push(match[1].replace(/\\(.)/g, '$1'))
  }
  return texts
}

export function connect(
  kc: KubeConfig,
  timeoutMs: number = CALL_TIMEOUT_MS
): ClusterApi {
  const core = kc.makeApiClient(CoreV1Api)
  const options = (): ConfigurationOptions => withDeadline(timeoutMs)
  return {
    server: kc.getCurrentCluster()?.server ?? '(unknown server)',

    async createSecret(namespace, body): Promise<V1Secret> {
      return within(
        timeoutMs,
        core.createNamespacedSecret({ namespace, body }, options())
      )
    },

    async deleteSecret(namespace, name, uid): Promise<'deleted' | 'absent'> {
      try {
        await within(
          timeoutMs,
          core.deleteNamespacedSecret(
            {
              name,
              namespace,
              // The uid precondition makes sure we only ever delete our own Secret.
              body: uid ? { preconditions: { uid } } : {}
            },
            options()
          )
        )
        return 'deleted'
      } catch (error) {
        if (httpStatus(error) === 404) return 'absent'
        throw error
      }
    },

    async requestToken(namespace, serviceAccount, spec): Promise<IssuedToken> {
      const response = await within(
        timeoutMs,
        core.createNamespacedServiceAccountTokenWithHttpInfo({
          name: serviceAccount,
          namespace,
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec
          }
        })
      )
      const status = response.data.status
      return {
        token: status?.token ?? '',
        expirationTimestamp: status?.expirationTimestamp,
        grantedSeconds: response.data.spec?.expirationSeconds,
        warnings: parseWarningHeader(response.headers.warning)
      }
    }
  }
}
