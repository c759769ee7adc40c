import type { V1NonResourceRule, V1ResourceRule } from '@kubernetes/client-node'
import { CLUSTER_SCOPED, describeCheck, parseCheck } from './can-i-lines.js'
import type {
  AccessCheck,
  AccessDecision,
  TokenApi
} from '../kube/token-api.js'

/** A permission a scanner should never hold, and the evidence for it. */
export interface Finding {
  risk: string
  evidence: string
}

export const RISKS = {
  wildcard:
    'wildcard verbs or resources (covers everything, including what is added later)',
  secrets: 'reads Secrets (list and watch return their contents)',
  workloads:
    'creates or changes pods or workloads (can mount any Secret and run as any ServiceAccount in the namespace)',
  exec: "exec, attach or port-forward into every pod (acts with each pod's ServiceAccount and Secrets; name the pods with resourceNames)",
  proxy:
    'proxies to pods or services (reaches their endpoints past network policy)',
  destructive:
    'deletes Secrets, ConfigMaps, pods or workloads, volumes (PersistentVolumeClaims, PersistentVolumes) or RBAC objects (can destroy what it scans)',
  escalation: 'escalate, bind or impersonate (can grant itself more)',
  tokens: 'creates ServiceAccount tokens (can become other ServiceAccounts)',
  nodeProxy: 'nodes/proxy (kubelet API, bypasses audit and admission)',
  cluster:
    'cluster-wide access (nodes, namespaces, cluster RBAC, persistent volumes, admission control or certificate signing)',
  nonResource:
    'non-resource URLs beyond discovery and health checks (such as /logs, /debug or /metrics)',
  undecided:
    'could not be ruled out (the authorizer answered with an evaluation error)'
} as const

type Risk = (typeof RISKS)[keyof typeof RISKS]

/** What a clean review rules out, one phrase per risk above, for the summary. */
export const NONE_FOUND =
  'None found in what was reviewed: no Secret reads, workload writes, ' +
  'deletes of Secrets, ConfigMaps, workloads, volumes or RBAC objects, exec ' +
  'into every pod, proxying, wildcards, escalation, token minting, ' +
  'nodes/proxy, cluster-wide access or non-resource URLs.'

/** What the RBAC rule grants, matched the way RBAC's own matcher does. */
class RuleMatcher {
  constructor(private readonly rule: V1ResourceRule) {}

  private verb(wanted: string[]): boolean {
    const verbs = this.rule.verbs
    return verbs.includes('*') || wanted.some((v) => verbs.includes(v))
  }

  private group(group: string): boolean {
    const groups = this.rule.apiGroups ?? []
    return groups.includes('*') || groups.includes(group)
  }

  /** `*` is every resource and subresource; `*\/sub` that subresource of every resource. */
  private resource(resource: string, sub: string): boolean {
    const combined = sub ? `${resource}/${sub}` : resource
    return (this.rule.resources ?? []).some(
      (r) => r === '*' || r === combined || (sub !== '' && r === `*/${sub}`)
    )
  }

  /** Some verb of `verbs` ('*' for any) on resource[/sub] in group. */
  grants(
    verbs: string[] | '*',
    resource: string,
    group = '',
    sub = ''
  ): boolean {
    const verbOk = verbs === '*' ? this.rule.verbs.length > 0 : this.verb(verbs)
    return verbOk && this.group(group) && this.resource(resource, sub)
  }

  get named(): boolean {
    return (this.rule.resourceNames ?? []).length > 0
  }
}

const CHANGE = ['create', 'update', 'patch']

const WORKLOADS: [string, string, string][] = [
  ['pods', '', ''],
  ['pods', '', 'ephemeralcontainers'],
  ['replicationcontrollers', '', ''],
  ['deployments', 'apps', ''],
  ['replicasets', 'apps', ''],
  ['statefulsets', 'apps', ''],
  ['daemonsets', 'apps', ''],
  ['jobs', 'batch', ''],
  ['cronjobs', 'batch', '']
]

const RBAC = 'rbac.authorization.k8s.io'
const DELETE = ['delete', 'deletecollection']

/**
 * What a scanner reads and must never be able to destroy: its data
 * (Secrets, ConfigMaps, volumes), what runs (pods and every workload that
 * makes them) and who may do what (RBAC). Cluster-scoped ones (cluster RBAC,
 * PersistentVolumes) show up in the namespaced review through
 * ClusterRoleBindings, as the cluster risks do.
 */
const DESTROYABLE: [string, string][] = [
  ['secrets', ''],
  ['configmaps', ''],
  ['persistentvolumeclaims', ''],
  ['persistentvolumes', ''],
  ...WORKLOADS.filter(([, , sub]) => sub === '').map(
    ([r, g]): [string, string] => [r, g]
  ),
  ['roles', RBAC],
  ['rolebindings', RBAC],
  ['clusterroles', RBAC],
  ['clusterrolebindings', RBAC]
]

const ADMISSION = 'admissionregistration.k8s.io'

/**
 * Cluster-scoped objects a scanner has no business changing (or listing, for
 * nodes and namespaces). Deleting cluster RBAC or PersistentVolumes is the
 * destructive risk instead, so one grant is one finding.
 */
const CLUSTER_RULES: [string[], string, string, string][] = [
  [['list', 'watch', ...CHANGE, ...DELETE], 'nodes', '', ''],
  [['list', 'watch', ...CHANGE, ...DELETE], 'namespaces', '', ''],
  [CHANGE, 'clusterroles', RBAC, ''],
  [CHANGE, 'clusterrolebindings', RBAC, ''],
  [CHANGE, 'persistentvolumes', '', ''],
  [[...CHANGE, ...DELETE], 'validatingwebhookconfigurations', ADMISSION, ''],
  [[...CHANGE, ...DELETE], 'mutatingwebhookconfigurations', ADMISSION, ''],
  [[...CHANGE, ...DELETE], 'validatingadmissionpolicies', ADMISSION, ''],
  [[...CHANGE, ...DELETE], 'validatingadmissionpolicybindings', ADMISSION, ''],
  [[...CHANGE, ...DELETE], 'mutatingadmissionpolicies', ADMISSION, ''],
  [[...CHANGE, ...DELETE], 'mutatingadmissionpolicybindings', ADMISSION, ''],
  [
    [...CHANGE, ...DELETE],
    'customresourcedefinitions',
    'apiextensions.k8s.io',
    ''
  ],
  [['create'], 'certificatesigningrequests', 'certificates.k8s.io', ''],
  [
    ['update', 'patch'],
    'certificatesigningrequests',
    'certificates.k8s.io',
    'approval'
  ]
]

function describeRule(rule: V1ResourceRule): string {
  const groups = (rule.apiGroups ?? []).map((g) => (g === '' ? 'core' : g))
  const names = rule.resourceNames?.length
    ? ` named ${rule.resourceNames.join(',')}`
    : ''
  return `rule: ${rule.verbs.join(',')} on ${(rule.resources ?? []).join(',')}${names} (apiGroups ${groups.join(',')})`
}

/** The risks one resource rule carries. */
function risksOf(rule: V1ResourceRule): Risk[] {
  const resources = rule.resources ?? []
  const wildVerb = rule.verbs.includes('*')
  const wildResource = resources.some((r) => r === '*' || r.startsWith('*/'))
  // Every verb on every resource: nothing more specific is worth listing.
  if (wildVerb && resources.includes('*')) return [RISKS.wildcard]
  const m = new RuleMatcher(rule)
  const risks: Risk[] = []
  if (wildVerb || wildResource) risks.push(RISKS.wildcard)
  if (m.grants(['get', 'list', 'watch'], 'secrets')) risks.push(RISKS.secrets)
  if (WORKLOADS.some(([r, g, sub]) => m.grants(CHANGE, r, g, sub))) {
    risks.push(RISKS.workloads)
  }
  // Exec into named pods is a scanner's job; into every pod it is not.
  // `get` counts too: before 1.35 a WebSocket exec was authorized as get.
  const reach = ['exec', 'attach', 'portforward']
  if (
    !m.named &&
    reach.some((sub) => m.grants(['create', 'get'], 'pods', '', sub))
  ) {
    risks.push(RISKS.exec)
  }
  if (['pods', 'services'].some((r) => m.grants('*', r, '', 'proxy'))) {
    risks.push(RISKS.proxy)
  }
  if (DESTROYABLE.some(([r, g]) => m.grants(DELETE, r, g))) {
    risks.push(RISKS.destructive)
  }
  if (['escalate', 'bind', 'impersonate'].some((v) => rule.verbs.includes(v))) {
    risks.push(RISKS.escalation)
  }
  if (m.grants(['create'], 'serviceaccounts', '', 'token')) {
    risks.push(RISKS.tokens)
  }
  if (m.grants('*', 'nodes', '', 'proxy')) risks.push(RISKS.nodeProxy)
  if (CLUSTER_RULES.some(([verbs, r, g, sub]) => m.grants(verbs, r, g, sub))) {
    risks.push(RISKS.cluster)
  }
  return risks
}

/** What every authenticated identity may read: discovery, health, version, issuer keys. */
const PUBLIC_URLS = new Set([
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/readyz',
  '/version',
  '/version/',
  '/openapi',
  '/openapi/*',
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/',
  '/openid/v1/jwks',
  '/openid/v1/jwks/'
])

function nonResourceFindings(rules: V1NonResourceRule[]): Finding[] {
  return rules
    .filter(
      (rule) =>
        rule.verbs.some((v) => v !== 'get' && v !== 'head') ||
        (rule.nonResourceURLs ?? []).some((url) => !PUBLIC_URLS.has(url))
    )
    .map((rule) => ({
      risk: RISKS.nonResource,
      evidence: `non-resource rule: ${rule.verbs.join(',')} on ${(rule.nonResourceURLs ?? []).join(',')}`
    }))
}

/**
 * Classify the rules SelfSubjectRulesReview returned for one namespace. On
 * an RBAC cluster they include the rules of the token's ClusterRoleBindings,
 * so cluster-scoped permissions show here too.
 */
export function classifyRules(
  rules: V1ResourceRule[],
  nonResourceRules: V1NonResourceRule[] = []
): Finding[] {
  const findings = rules.flatMap((rule) =>
    risksOf(rule).map((risk) => ({ risk, evidence: describeRule(rule) }))
  )
  return [...findings, ...nonResourceFindings(nonResourceRules)]
}

/** Only asked when a rules review is incomplete (an authorizer that cannot list rules, such as a webhook). */
const CLUSTER_PROBES: string[] = [
  'list secrets --all-namespaces',
  'list pods --all-namespaces',
  'create pods --all-namespaces',
  'create pods/exec --all-namespaces',
  'create serviceaccounts/token --all-namespaces',
  'list namespaces',
  'patch namespaces',
  'list nodes',
  'get nodes/proxy',
  'create clusterrolebindings',
  'escalate clusterroles',
  'bind clusterroles',
  'impersonate users',
  'impersonate groups',
  'impersonate serviceaccounts --all-namespaces',
  'create persistentvolumes',
  'create mutatingwebhookconfigurations',
  'create validatingwebhookconfigurations',
  'create validatingadmissionpolicies',
  'create validatingadmissionpolicybindings',
  'create certificatesigningrequests',
  'update certificatesigningrequests/approval'
]

/** ...and in each namespace whose review was incomplete. */
const NAMESPACE_PROBES: [string, Risk][] = [
  ['get secrets', RISKS.secrets],
  ['list secrets', RISKS.secrets],
  ['watch secrets', RISKS.secrets],
  ['create pods', RISKS.workloads],
  ['patch pods', RISKS.workloads],
  ['patch pods/ephemeralcontainers', RISKS.workloads],
  ['create deployments', RISKS.workloads],
  ['patch deployments', RISKS.workloads],
  ['create daemonsets', RISKS.workloads],
  ['create statefulsets', RISKS.workloads],
  ['create jobs', RISKS.workloads],
  ['create cronjobs', RISKS.workloads],
  ['create pods/exec', RISKS.exec],
  ['get pods/exec', RISKS.exec],
  ['create pods/attach', RISKS.exec],
  ['create pods/portforward', RISKS.exec],
  ['get pods/proxy', RISKS.proxy],
  ['get services/proxy', RISKS.proxy],
  ['escalate roles', RISKS.escalation],
  ['bind roles', RISKS.escalation],
  ['impersonate serviceaccounts', RISKS.escalation],
  ['create serviceaccounts/token', RISKS.tokens]
]

/** delete and deletecollection of each DESTROYABLE resource, split by where it lives. */
const DELETE_PROBES = DESTROYABLE.flatMap(([resource]) =>
  DELETE.map((verb) => ({
    line: `${verb} ${resource}`,
    clusterScoped: CLUSTER_SCOPED.has(resource)
  }))
)
const NAMESPACE_DELETE_PROBES: [string, Risk][] = DELETE_PROBES.filter(
  (p) => !p.clusterScoped
).map((p) => [p.line, RISKS.destructive])
const CLUSTER_DELETE_PROBES: [string, Risk][] = DELETE_PROBES.filter(
  (p) => p.clusterScoped
).map((p) => [p.line, RISKS.destructive])

/** Ask every probe; an allowed one is a finding of its risk, an undecidable one a finding too. */
async function probe(
  api: TokenApi,
  probes: { check: AccessCheck; risk: Risk }[]
): Promise<Finding[]> {
  const answers: AccessDecision[] = await Promise.all(
    probes.map((p) => api.canI(p.check))
  )
  return probes.flatMap((p, i) => {
    const answer = answers[i]
    if (answer?.allowed) {
      return [{ risk: p.risk, evidence: `allowed: ${describeCheck(p.check)}` }]
    }
    if (answer?.error) {
      return [
        {
          risk: RISKS.undecided,
          evidence: `${describeCheck(p.check)}: ${answer.error}`
        }
      ]
    }
    return []
  })
}

export interface PrivilegeReport {
  findings: Finding[]
  /** Namespaces whose rules were reviewed (each review includes the cluster-wide bindings' rules). */
  namespaces: string[]
  /** Namespaces whose rules review was incomplete, so access reviews checked each risk there. */
  incompleteIn: string[]
  /** Access reviews asked because a rules review was incomplete. */
  probes: number
}

function listed(namespaces: string[]): string {
  return `${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${namespaces.join(', ')}`
}

/** What the review looked at, and what it cannot see: for the summary and the log. */
export function describeScope(report: PrivilegeReport): string {
  const base =
    `Reviewed the token's rules in ${listed(report.namespaces)}, which ` +
    `include its cluster-wide (ClusterRoleBinding) rules`
  const incomplete =
    report.incompleteIn.length === 0
      ? ''
      : `; the rules review was incomplete in ${listed(report.incompleteIn)} ` +
        `(an authorizer other than RBAC, such as a webhook), so ` +
        `${report.probes} access reviews checked each risk there and cluster-wide`
  return (
    `${base}${incomplete}; RoleBindings in other namespaces are not visible ` +
    `to this review (name a namespace in an 'expect-*' line to include it).`
  )
}

/**
 * Everything the token may do that a scanner should not, in its own
 * namespace and every namespace the checks name: one rules review each
 * (which on RBAC also carries the cluster-wide bindings), and access reviews
 * only where a rules review is incomplete.
 */
export async function findExcessPrivilege(
  api: TokenApi,
  namespaces: string[]
): Promise<PrivilegeReport> {
  const unique = [...new Set(namespaces.filter((ns) => ns !== ''))]
  const reviews = await Promise.all(unique.map((ns) => api.rules(ns)))
  const findings = reviews.flatMap((review, i) =>
    classifyRules(review.rules, review.nonResourceRules).map((f) => ({
      ...f,
      evidence: `${f.evidence} in namespace ${unique[i] ?? ''}`
    }))
  )
  const incompleteIn = unique.filter((_, i) => reviews[i]?.incomplete)
  const probes = incompleteIn.flatMap((ns) =>
    [...NAMESPACE_PROBES, ...NAMESPACE_DELETE_PROBES].map(([line, risk]) => ({
      check: parseCheck('excess-privilege', line, ns),
      risk
    }))
  )
  if (incompleteIn.length > 0) {
    const cluster: [string, Risk][] = [
      ...CLUSTER_PROBES.map((line): [string, Risk] => [line, RISKS.cluster]),
      ...CLUSTER_DELETE_PROBES
    ]
    for (const [line, risk] of cluster) {
      probes.push({
        check: parseCheck('excess-privilege', line, incompleteIn[0] ?? ''),
        risk
      })
    }
  }
  findings.push(...(await probe(api, probes)))
  return { findings, namespaces: unique, incompleteIn, probes: probes.length }
}
