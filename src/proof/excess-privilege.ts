import type { V1ResourceRule } from '@kubernetes/client-node'
import { describeCheck, parseCheck, type AccessCheck } from './can-i-lines.js'
import type { TokenApi } from '../kube/token-api.js'

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
  escalation: 'escalate, bind or impersonate (can grant itself more)',
  tokens: 'creates ServiceAccount tokens (can become other ServiceAccounts)',
  nodeProxy: 'nodes/proxy (kubelet API, bypasses audit and admission)',
  cluster: 'cluster-wide access'
} as const

const WORKLOADS: [string, string][] = [
  ['pods', ''],
  ['pods/ephemeralcontainers', ''],
  ['replicationcontrollers', ''],
  ['deployments', 'apps'],
  ['replicasets', 'apps'],
  ['statefulsets', 'apps'],
  ['daemonsets', 'apps'],
  ['jobs', 'batch'],
  ['cronjobs', 'batch']
]

function describeRule(rule: V1ResourceRule): string {
  const groups = (rule.apiGroups ?? []).map((g) => (g === '' ? 'core' : g))
  const names = rule.resourceNames?.length
    ? ` named ${rule.resourceNames.join(',')}`
    : ''
  return `rule: ${rule.verbs.join(',')} on ${(rule.resources ?? []).join(',')}${names} (apiGroups ${groups.join(',')})`
}

/** Classify the rules SelfSubjectRulesReview returned for the token's namespace. */
export function classifyRules(rules: V1ResourceRule[]): Finding[] {
  const findings: Finding[] = []
  for (const rule of rules) {
    const verbs = rule.verbs
    const resources = rule.resources ?? []
    const groups = rule.apiGroups ?? []
    const has = (...wanted: string[]): boolean =>
      verbs.includes('*') || wanted.some((v) => verbs.includes(v))
    const covers = (resource: string, group: string): boolean =>
      (resources.includes('*') || resources.includes(resource)) &&
      (groups.includes('*') || groups.includes(group))
    const evidence = describeRule(rule)
    if (verbs.includes('*') || resources.includes('*')) {
      findings.push({ risk: RISKS.wildcard, evidence })
      continue
    }
    if (covers('secrets', '') && has('get', 'list', 'watch')) {
      findings.push({ risk: RISKS.secrets, evidence })
    }
    if (
      WORKLOADS.some(([r, g]) => covers(r, g)) &&
      has('create', 'patch', 'update')
    ) {
      findings.push({ risk: RISKS.workloads, evidence })
    }
    if (['escalate', 'bind', 'impersonate'].some((v) => verbs.includes(v))) {
      findings.push({ risk: RISKS.escalation, evidence })
    }
    if (covers('serviceaccounts/token', '') && has('create')) {
      findings.push({ risk: RISKS.tokens, evidence })
    }
    if (covers('nodes/proxy', '')) {
      findings.push({ risk: RISKS.nodeProxy, evidence })
    }
  }
  return findings
}

/** Cluster-wide access is invisible to a namespaced rules review: ask directly. */
const CLUSTER_PROBES = [
  'list secrets --all-namespaces',
  'list pods --all-namespaces',
  'create pods --all-namespaces',
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
  'create certificatesigningrequests',
  'update certificatesigningrequests/approval'
]

/** Where the rules review is incomplete, confirm each risk with an access review. */
const NAMESPACE_PROBES: [string, string][] = [
  ['get secrets', RISKS.secrets],
  ['list secrets', RISKS.secrets],
  ['create pods', RISKS.workloads],
  ['patch pods', RISKS.workloads],
  ['create deployments', RISKS.workloads],
  ['create jobs', RISKS.workloads],
  ['escalate roles', RISKS.escalation],
  ['bind roles', RISKS.escalation],
  ['create serviceaccounts/token', RISKS.tokens]
]

async function allowed(
  api: TokenApi,
  checks: AccessCheck[]
): Promise<AccessCheck[]> {
  const answers = await Promise.all(checks.map((check) => api.canI(check)))
  return checks.filter((_, i) => answers[i])
}

export interface PrivilegeReport {
  findings: Finding[]
  /** True when the rules review could not see everything (e.g. a webhook authorizer). */
  incomplete: boolean
}

/** The rules review and its confirmations for one namespace. */
async function reviewNamespace(
  api: TokenApi,
  namespace: string
): Promise<{ findings: Finding[]; incomplete: boolean }> {
  const review = await api.rules(namespace)
  const findings = classifyRules(review.rules).map((f) => ({
    ...f,
    evidence: `${f.evidence} in namespace ${namespace}`
  }))
  if (review.incomplete) {
    const probes = NAMESPACE_PROBES.map(([line, risk]) => ({
      check: parseCheck('excess-privilege', line, namespace),
      risk
    }))
    const yes = await allowed(
      api,
      probes.map((p) => p.check)
    )
    for (const probe of probes) {
      if (yes.includes(probe.check)) {
        findings.push({
          risk: probe.risk,
          evidence: `allowed: ${describeCheck(probe.check)}`
        })
      }
    }
  }
  return { findings, incomplete: review.incomplete }
}

/**
 * Everything the token may do that a scanner should not: in its own
 * namespace, in every namespace the checks name, and cluster-wide.
 */
export async function findExcessPrivilege(
  api: TokenApi,
  namespaces: string[]
): Promise<PrivilegeReport> {
  const unique = [...new Set(namespaces.filter((ns) => ns !== ''))]
  const perNamespace = await Promise.all(
    unique.map((ns) => reviewNamespace(api, ns))
  )
  const findings = perNamespace.flatMap((r) => r.findings)
  const cluster = await allowed(
    api,
    CLUSTER_PROBES.map((line) =>
      parseCheck('excess-privilege', line, unique[0] ?? 'default')
    )
  )
  for (const check of cluster) {
    findings.push({
      risk: RISKS.cluster,
      evidence: `allowed: ${describeCheck(check)}`
    })
  }
  return { findings, incomplete: perNamespace.some((r) => r.incomplete) }
}
