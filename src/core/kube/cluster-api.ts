import { httpStatus } from './api-errors.js'
import { mainBounds, type CallBounds } from './deadline.js'
import { CoreV1Api } from './endpoints.js'
import { withRetries } from './retry.js'
import {
  type KubeConfig,
  type V1BoundObjectReference,
  type V1Secret
} from '@kubernetes/client-node'
import type { BootstrapIdentity } from './bootstrap/kind.js'

interface TokenSpec {
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
  /** Who the calls authenticate as, for the sentences their failures get. */
  readonly bootstrap?: BootstrapIdentity
  /**
   * Creates the Secret. When an earlier attempt may have landed (a timeout,
   * a reset, a 5xx) and the retry finds the name taken, that Secret is the
   * one this call created: the name carries 40 random bits chosen by this
   * run. It is then returned as sent, without a uid.
   */
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
  bounds: CallBounds = mainBounds(),
  bootstrap?: BootstrapIdentity
): ClusterApi {
  const core = kc.makeApiClient(CoreV1Api)
  return {
    server: kc.getCurrentCluster()?.server ?? '(unknown server)',
    // Only the describing half travels with every call and every failure:
    // the kubeconfig (with the bootstrap credential or the ID token) stays
    // with the caller, so no future log line about a call can print it.
    ...(bootstrap
      ? {
          bootstrap: {
            describe: () => bootstrap.describe(),
            wording: bootstrap.wording
          }
        }
      : {}),

    async createSecret(namespace, body): Promise<V1Secret> {
      const name = body.metadata?.name ?? ''
      return withRetries(
        `Creating Secret ${namespace}/${name}`,
        bounds,
        async (signal, attempt) => {
          try {
            return await core.createNamespacedSecret(
              { namespace, body },
              signal
            )
          } catch (error) {
            if (httpStatus(error) === 409 && attempt.mayHaveApplied) {
              return body
            }
            throw error
          }
        }
      )
    },

    async deleteSecret(namespace, name, uid): Promise<'deleted' | 'absent'> {
      return withRetries(
        `Deleting Secret ${namespace}/${name}`,
        bounds,
        async (signal) => {
          try {
            await core.deleteNamespacedSecret(
              {
                name,
                namespace,
                // The uid precondition makes sure we only ever delete our own Secret.
                body: uid ? { preconditions: { uid } } : {}
              },
              signal
            )
            return 'deleted'
          } catch (error) {
            // Also after an attempt whose answer was lost: it deleted it.
            if (httpStatus(error) === 404) return 'absent'
            throw error
          }
        }
      )
    },

    async requestToken(namespace, serviceAccount, spec): Promise<IssuedToken> {
      // Repeating a TokenRequest is safe: a token whose answer was lost is
      // bound to the same object (and so revoked with it), and nobody holds it.
      const response = await withRetries(
        `TokenRequest for ServiceAccount ${namespace}/${serviceAccount}`,
        bounds,
        (signal) =>
          core.createNamespacedServiceAccountTokenWithHttpInfo(
            {
              name: serviceAccount,
              namespace,
              body: {
                apiVersion: 'authentication.k8s.io/v1',
                kind: 'TokenRequest',
                spec
              }
            },
            signal
          )
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
