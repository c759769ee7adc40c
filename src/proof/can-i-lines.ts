import { InputError } from '../errors.js'
import { isDnsLabel } from '../kube/formats.js'

/** One `kubectl auth can-i` style check, as the action interprets it. */
export interface AccessCheck {
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
  /** Set for non-resource URLs such as /healthz. */
  path: string
}

// RBAC spells subresources as pods/exec, so `TYPE/X` with a well-known X is
// read as that subresource; `pods/NAME --subresource=exec` names an object.
const SUBRESOURCES = new Set([
  'exec',
  'log',
  'attach',
  'portforward',
  'proxy',
  'status',
  'token',
  'eviction',
  'binding',
  'ephemeralcontainers',
  'scale',
  'approval'
])

// Without discovery we resolve the common short names and groups ourselves;
// anything else can be written as `resource.group`.
const ALIASES: Record<string, string> = {
  po: 'pods',
  pod: 'pods',
  svc: 'services',
  service: 'services',
  sa: 'serviceaccounts',
  serviceaccount: 'serviceaccounts',
  ns: 'namespaces',
  namespace: 'namespaces',
  no: 'nodes',
  node: 'nodes',
  cm: 'configmaps',
  configmap: 'configmaps',
  secret: 'secrets',
  deploy: 'deployments',
  deployment: 'deployments',
  rs: 'replicasets',
  sts: 'statefulsets',
  ds: 'daemonsets',
  job: 'jobs',
  cj: 'cronjobs',
  pv: 'persistentvolumes',
  pvc: 'persistentvolumeclaims',
  role: 'roles',
  rolebinding: 'rolebindings',
  clusterrole: 'clusterroles',
  clusterrolebinding: 'clusterrolebindings'
}

const GROUPS: Record<string, string> = {
  deployments: 'apps',
  replicasets: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  controllerrevisions: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
  roles: 'rbac.authorization.k8s.io',
  rolebindings: 'rbac.authorization.k8s.io',
  clusterroles: 'rbac.authorization.k8s.io',
  clusterrolebindings: 'rbac.authorization.k8s.io',
  networkpolicies: 'networking.k8s.io',
  ingresses: 'networking.k8s.io',
  certificatesigningrequests: 'certificates.k8s.io',
  validatingwebhookconfigurations: 'admissionregistration.k8s.io',
  mutatingwebhookconfigurations: 'admissionregistration.k8s.io',
  customresourcedefinitions: 'apiextensions.k8s.io',
  storageclasses: 'storage.k8s.io',
  leases: 'coordination.k8s.io'
}

/** Resources that live outside namespaces: checked cluster-wide. */
export const CLUSTER_SCOPED = new Set([
  'nodes',
  'namespaces',
  'persistentvolumes',
  'clusterroles',
  'clusterrolebindings',
  'certificatesigningrequests',
  'validatingwebhookconfigurations',
  'mutatingwebhookconfigurations',
  'customresourcedefinitions',
  'storageclasses',
  'priorityclasses',
  'volumeattachments',
  'csidrivers',
  'csinodes',
  'runtimeclasses',
  'ingressclasses',
  'apiservices',
  'users',
  'groups'
])

/** Core-group resources, so that a typo cannot silently pass as "denied". */
const CORE = new Set([
  'pods',
  'services',
  'secrets',
  'configmaps',
  'serviceaccounts',
  'endpoints',
  'events',
  'limitranges',
  'resourcequotas',
  'persistentvolumeclaims',
  'replicationcontrollers',
  'podtemplates',
  'bindings',
  'componentstatuses',
  'nodes',
  'namespaces',
  'persistentvolumes',
  // Impersonation targets (`impersonate users`).
  'users',
  'groups',
  'uids',
  'userextras'
])

function fail(input: string, line: string, problem: string): never {
  throw new InputError(
    `Input '${input}' has the line '${line}', which ${problem}: write checks ` +
      `as 'VERB TYPE[/NAME] [--subresource=SUB] [-n NAMESPACE | --all-namespaces]', ` +
      `for example 'create pods/exec -n scan-target'.`
  )
}

function resolveType(
  input: string,
  line: string,
  type: string
): { resource: string; group: string } {
  if (type === '*') return { resource: '*', group: '*' }
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/.test(type)) {
    fail(
      input,
      line,
      `has the resource '${type}', which is not a lowercase resource name`
    )
  }
  const dot = type.indexOf('.')
  const base = dot === -1 ? type : type.slice(0, dot)
  const resource = ALIASES[base] ?? base
  if (dot === -1) {
    if (!CORE.has(resource) && !(resource in GROUPS)) {
      fail(
        input,
        line,
        `has the resource '${type}', which is not a known resource: write other resources as 'plural.group' (for example 'horizontalpodautoscalers.autoscaling')`
      )
    }
    return { resource, group: GROUPS[resource] ?? '' }
  }
  const group = type.slice(dot + 1)
  if (/^v\d/.test(group)) {
    fail(
      input,
      line,
      `has the resource '${type}' with a version: write 'plural.group' without the version`
    )
  }
  return { resource, group }
}

function checkNamespaceValue(
  input: string,
  line: string,
  ns: string | undefined
): string {
  if (ns === undefined || !isDnsLabel(ns)) {
    fail(
      input,
      line,
      `has the namespace '${ns ?? ''}', which is not a valid namespace name`
    )
  }
  return ns
}

/** Parse one line; `namespace` is the default for namespaced resources. */
export function parseCheck(
  input: string,
  line: string,
  namespace: string
): AccessCheck {
  const words = line.trim().split(/\s+/)
  let ns: string | undefined
  let allNamespaces = false
  let subresource = ''
  const positional: string[] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? ''
    if (word === '-n' || word === '--namespace') {
      ns = words[++i]
      if (!ns) fail(input, line, `has '${word}' without a namespace`)
      ns = checkNamespaceValue(input, line, ns)
    } else if (word.startsWith('--namespace=')) {
      ns = checkNamespaceValue(input, line, word.slice('--namespace='.length))
    } else if (word === '-A' || word === '--all-namespaces') {
      allNamespaces = true
    } else if (word.startsWith('--subresource=')) {
      subresource = word.slice('--subresource='.length)
      if (!/^[a-z]+$/.test(subresource)) {
        fail(
          input,
          line,
          `has the subresource '${subresource}', which is not a subresource name`
        )
      }
    } else if (word.startsWith('-')) {
      fail(input, line, `has the unknown option '${word}'`)
    } else {
      positional.push(word)
    }
  }
  const [verb, target, ...rest] = positional
  if (!verb || !target) fail(input, line, 'needs a verb and a resource')
  if (rest.length > 0) fail(input, line, `has extra words '${rest.join(' ')}'`)
  if (!/^([a-z]+|\*)$/.test(verb))
    fail(input, line, `has the verb '${verb}', which is not a Kubernetes verb`)
  if (allNamespaces && ns !== undefined)
    fail(input, line, 'has both -n and --all-namespaces')
  if (target.startsWith('/')) {
    return {
      line,
      verb,
      resource: '',
      group: '',
      subresource: '',
      name: '',
      namespace: '',
      path: target
    }
  }
  const [type = '', second, ...more] = target.split('/')
  if (more.length > 0 || type === '')
    fail(
      input,
      line,
      `has the resource '${target}', which has too many '/' parts`
    )
  let name = ''
  if (second !== undefined) {
    if (subresource === '' && SUBRESOURCES.has(second)) subresource = second
    else name = second
  }
  const { resource, group } = resolveType(input, line, type)
  const scoped = CLUSTER_SCOPED.has(resource)
  return {
    line,
    verb,
    resource,
    group,
    subresource,
    name,
    namespace: allNamespaces || scoped ? '' : (ns ?? namespace),
    path: ''
  }
}

/** Parse a multi-line input; blank lines and `#` comments are ignored. */
export function parseChecks(
  input: string,
  raw: string,
  namespace: string
): AccessCheck[] {
  return raw
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => parseCheck(input, line, namespace))
}

/** The check as it was interpreted, for the summary and messages. */
export function describeCheck(check: AccessCheck): string {
  if (check.path) return `${check.verb} ${check.path}`
  const type = check.group ? `${check.resource}.${check.group}` : check.resource
  const sub = check.subresource ? `/${check.subresource}` : ''
  const name = check.name ? ` named ${check.name}` : ''
  const where = check.namespace
    ? ` in namespace ${check.namespace}`
    : CLUSTER_SCOPED.has(check.resource)
      ? ' (cluster-scoped)'
      : ' in all namespaces'
  return `${check.verb} ${type}${sub}${name}${where}`
}
