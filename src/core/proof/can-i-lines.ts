import { ActionError, InputError, hasUnprintable, quoted } from '../errors.js'
import { isDnsLabel } from '../kube/formats.js'
import type { AccessCheck, Served } from '../kube/token-api.js'

// RBAC spells subresources as pods/exec, so `TYPE/X` with a well-known X is
// read as that subresource; `pods/NAME --subresource=exec` names an object.
export const SUBRESOURCES = new Set([
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

/** The subresources of the resources we know without discovery. */
const SUBRESOURCES_OF: Record<string, string[]> = {
  pods: [
    'exec',
    'log',
    'attach',
    'portforward',
    'proxy',
    'status',
    'binding',
    'eviction',
    'ephemeralcontainers',
    'resize'
  ],
  services: ['proxy', 'status'],
  nodes: ['proxy', 'status'],
  serviceaccounts: ['token'],
  deployments: ['scale', 'status'],
  replicasets: ['scale', 'status'],
  statefulsets: ['scale', 'status'],
  replicationcontrollers: ['scale', 'status'],
  daemonsets: ['status'],
  jobs: ['status'],
  cronjobs: ['status'],
  namespaces: ['finalize', 'status'],
  persistentvolumes: ['status'],
  persistentvolumeclaims: ['status'],
  resourcequotas: ['status'],
  certificatesigningrequests: ['approval', 'status']
}

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
  validatingadmissionpolicies: 'admissionregistration.k8s.io',
  validatingadmissionpolicybindings: 'admissionregistration.k8s.io',
  mutatingadmissionpolicies: 'admissionregistration.k8s.io',
  mutatingadmissionpolicybindings: 'admissionregistration.k8s.io',
  customresourcedefinitions: 'apiextensions.k8s.io',
  storageclasses: 'storage.k8s.io',
  leases: 'coordination.k8s.io',
  // Impersonation targets that are not core resources.
  uids: 'authentication.k8s.io',
  userextras: 'authentication.k8s.io'
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
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
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
  'groups',
  'uids',
  'userextras'
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
  'groups'
])

function fail(input: string, line: string, problem: string): never {
  throw new InputError(
    `Input '${input}' has the line ${quoted(line)}, which ${problem}: write checks ` +
      `as 'VERB TYPE[/NAME] [--subresource=SUB] [-n NAMESPACE | --all-namespaces]', ` +
      `for example 'create pods/exec -n scan-target'.`
  )
}

function resolveType(
  input: string,
  line: string,
  type: string
): { resource: string; group: string; known: boolean } {
  // kubectl's resourceFor("*") keeps the core group, and so do we.
  if (type === '*') return { resource: '*', group: '', known: true }
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/.test(type)) {
    fail(
      input,
      line,
      `has the resource ${quoted(type)}, which is not a lowercase resource name`
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
        `has the resource ${quoted(type)}, which is not a known resource: write other resources as 'plural.group' (for example 'horizontalpodautoscalers.autoscaling')`
      )
    }
    return { resource, group: GROUPS[resource] ?? '', known: true }
  }
  const group = type.slice(dot + 1)
  if (/^v\d/.test(group)) {
    fail(
      input,
      line,
      `has the resource ${quoted(type)} with a version: write 'plural.group' without the version`
    )
  }
  // Anything but a resource our tables place in exactly this group is
  // confirmed through discovery: 'daemonset.apps' or 'secrets.core' must
  // not become a check of something that does not exist.
  return { resource, group, known: GROUPS[resource] === group }
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
      `has the namespace ${quoted(ns ?? '')}, which is not a valid namespace name`
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
      if (!ns) fail(input, line, `has ${quoted(word)} without a namespace`)
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
          `has the subresource ${quoted(subresource)}, which is not a subresource name`
        )
      }
    } else if (word.startsWith('-')) {
      fail(input, line, `has the unknown option ${quoted(word)}`)
    } else {
      positional.push(word)
    }
  }
  const [verb, target, ...rest] = positional
  if (!verb || !target) fail(input, line, 'needs a verb and a resource')
  if (rest.length > 0)
    fail(input, line, `has extra words ${quoted(rest.join(' '))}`)
  if (!/^([a-z]+|\*)$/.test(verb))
    fail(
      input,
      line,
      `has the verb ${quoted(verb)}, which is not a Kubernetes verb`
    )
  if (input === 'expect-denied' && (verb === '*' || target.startsWith('*'))) {
    fail(
      input,
      line,
      `uses a wildcard, which an access review answers 'denied' unless the token holds that very wildcard (so the check passes while narrower permissions are allowed); list each verb and resource to deny, and keep 'excess-privilege' on to flag wildcard rules`
    )
  }
  if (allNamespaces && ns !== undefined)
    fail(input, line, 'has both -n and --all-namespaces')
  if (hasUnprintable(target)) {
    fail(input, line, `has ${quoted(target)}, which holds a control character`)
  }
  if (target.startsWith('/')) {
    return {
      input,
      line,
      verb,
      resource: '',
      group: '',
      subresource: '',
      name: '',
      namespace: '',
      clusterScoped: false,
      path: target,
      needsDiscovery: false
    }
  }
  const [type = '', second, ...more] = target.split('/')
  if (more.length > 0 || type === '')
    fail(
      input,
      line,
      `has the resource ${quoted(target)}, which has too many '/' parts`
    )
  const { resource, group, known } = resolveType(input, line, type)
  let name = ''
  if (second !== undefined) {
    // `userextras/KEY` is how RBAC names one extra key: always a subresource.
    const isSub = SUBRESOURCES.has(second) || resource === 'userextras'
    if (subresource === '' && isSub) subresource = second
    else name = second
  }
  const knownSub =
    subresource === '' ||
    resource === 'userextras' ||
    (SUBRESOURCES_OF[resource] ?? []).includes(subresource)
  const scoped = CLUSTER_SCOPED.has(resource)
  return {
    input,
    line,
    verb,
    resource,
    group,
    subresource,
    name,
    namespace: allNamespaces || scoped ? '' : (ns ?? namespace),
    clusterScoped: scoped,
    path: '',
    needsDiscovery: !(known && knownSub) && resource !== '*'
  }
}

/** What the API server serves, as discovery tells it. */
/**
 * Confirm the checks the action's tables cannot vouch for against the API
 * server's discovery (one request per API group involved), and scope
 * cluster-scoped resources cluster-wide. A resource, group or subresource
 * the server does not serve is an error: asked anyway, it would always be
 * "denied", so an 'expect-denied' line would pass whatever the token holds.
 */
export async function confirmChecks(
  checks: AccessCheck[],
  discover: (group: string) => Promise<Served[] | undefined>
): Promise<AccessCheck[]> {
  const served = new Map<string, Promise<Served[] | undefined>>()
  const lookup = (group: string): Promise<Served[] | undefined> => {
    let found = served.get(group)
    if (!found) {
      found = discover(group)
      served.set(group, found)
    }
    return found
  }
  return Promise.all(
    checks.map(async (check) => {
      if (!check.needsDiscovery) return check
      const where = check.group
        ? `the API group ${quoted(check.group)}`
        : 'the core API group'
      const resources = await lookup(check.group)
      const problem = (what: string): ActionError =>
        new ActionError(
          `Input '${check.input}' has the line ${quoted(check.line)}, but ${what}: ` +
            `fix the line, since a check of something the server does not ` +
            `serve is always 'denied'.`
        )
      if (!resources) {
        throw problem(
          `the API server serves no API group ${quoted(check.group)}`
        )
      }
      const top = resources.filter((r) => !r.name.includes('/'))
      const match = top.find(
        (r) =>
          r.name === check.resource ||
          r.singularName === check.resource ||
          (r.shortNames ?? []).includes(check.resource)
      )
      if (!match) {
        const names = top.map((r) => r.name).join(', ')
        throw problem(
          `${where} has no resource ${quoted(check.resource)} (it has: ${names || 'none'})`
        )
      }
      if (
        check.subresource !== '' &&
        !resources.some((r) => r.name === `${match.name}/${check.subresource}`)
      ) {
        const subs = resources
          .filter((r) => r.name.startsWith(`${match.name}/`))
          .map((r) => r.name.slice(match.name.length + 1))
        throw problem(
          `'${match.name}' has no subresource ${quoted(check.subresource)} (it has: ${subs.join(', ') || 'none'})`
        )
      }
      return {
        ...check,
        resource: match.name,
        namespace: match.namespaced ? check.namespace : '',
        clusterScoped: !match.namespaced,
        needsDiscovery: false
      }
    })
  )
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
    : check.clusterScoped
      ? ' (cluster-scoped)'
      : ' in all namespaces'
  return `${check.verb} ${type}${sub}${name}${where}`
}
