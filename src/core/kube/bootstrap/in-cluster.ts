import * as fs from 'node:fs'
import * as net from 'node:net'
import type { KubeConfig } from '@kubernetes/client-node'
import {
  kubeconfigBootstrap,
  kubeconfigKind,
  pinBootstrap,
  type KubeconfigKind
} from './kubeconfig.js'
import type { Bootstrap, BootstrapRef } from './kind.js'
import { InputError } from '../../errors.js'

type InClusterSource = { kind: 'in-cluster' }

const ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/**
 * Where a Pod's ServiceAccount credential is; each defaults to what the
 * kubelet mounts and the Service environment a Pod gets, so a process
 * other than the action (the renewal helper) can name its own.
 */
export interface InClusterValues {
  /** The API server; default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. */
  server?: string
  /** The CA bundle file; default the mounted ca.crt. */
  caFile?: string
  /** The token file, read again for every request (the kubelet rotates it). */
  tokenFile?: string
}

/** The server as client-node's loadFromCluster names it (http:// is refused later). */
function serviceServer(env: NodeJS.ProcessEnv): string {
  const host = env.KUBERNETES_SERVICE_HOST ?? ''
  const port = env.KUBERNETES_SERVICE_PORT ?? ''
  // client-node would build 'https://HOST:undefined', which is no URL, and
  // send nothing; 'https://HOST:' would mean port 443, a server nobody named.
  if (!host || !port) {
    throw new InputError(
      `The in-cluster bootstrap needs both KUBERNETES_SERVICE_HOST and ` +
        `KUBERNETES_SERVICE_PORT, as the kubelet sets them in a Pod: run the ` +
        `step in the Pod's own environment or give the 'kubeconfig' input.`
    )
  }
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https'
  return `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`
}

/**
 * The configuration client-node's loadFromCluster builds (the same names,
 * so main's record is unchanged), from `values` where given.
 */
function readInCluster(
  kc: KubeConfig,
  values: InClusterValues,
  env: NodeJS.ProcessEnv
): void {
  kc.loadFromOptions({
    clusters: [
      {
        name: 'inCluster',
        server: values.server ?? serviceServer(env),
        caFile: values.caFile ?? `${ACCOUNT_DIR}/ca.crt`,
        skipTLSVerify: false
      }
    ],
    users: [
      {
        name: 'inClusterUser',
        authProvider: {
          name: 'tokenFile',
          config: { tokenFile: values.tokenFile ?? `${ACCOUNT_DIR}/token` }
        }
      }
    ],
    contexts: [
      { name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser' }
    ],
    currentContext: 'inClusterContext'
  })
}

const WHO = 'the in-cluster ServiceAccount'

function inClusterKind(
  values: InClusterValues = {}
): KubeconfigKind<InClusterSource> {
  return kubeconfigKind<InClusterSource>({
    kind: 'in-cluster',
    find: ({ env }) =>
      env.KUBERNETES_SERVICE_HOST &&
      env.KUBERNETES_SERVICE_PORT &&
      fs.existsSync(values.tokenFile ?? `${ACCOUNT_DIR}/token`)
        ? { kind: 'in-cluster' }
        : undefined,
    describe: () => WHO,
    fixInput: `'kubeconfig' (or KUBECONFIG)`,
    read(kc, _source, _kubeconfig, _where, env) {
      readInCluster(kc, values, env)
    }
  })
}

/**
 * The Pod's own ServiceAccount, last in the order: a runner in a Pod with
 * no kubeconfig mints as itself.
 */
export const inCluster = inClusterKind()

/**
 * Open the in-cluster bootstrap from plain values and the environment,
 * checked and masked as the action's is: for a process that is not the
 * action. Throws InputError; no network call.
 */
export function openInCluster(
  values: InClusterValues = {},
  env: NodeJS.ProcessEnv = process.env
): Bootstrap {
  const ref: BootstrapRef<InClusterSource> = {
    source: { kind: 'in-cluster' },
    context: ''
  }
  const kc = inClusterKind(values).load(ref, '', env)
  return kubeconfigBootstrap(pinBootstrap(ref, kc), kc, WHO)
}
