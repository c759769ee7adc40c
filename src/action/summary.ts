import * as core from '@actions/core'
import { describeCheck } from '../core/proof/can-i-lines.js'
import { formatDuration } from '../core/token/duration.js'
import { answerWord, type Proof } from '../core/proof/prove-token.js'
import { describeScope, NONE_FOUND } from '../core/proof/excess-privilege.js'
import { rfc3339 } from '../core/kube/formats.js'
import type { Lifetime } from '../core/token/lifetime.js'
import type { MintedToken } from '../core/token/token-request.js'
import type { Inputs } from './inputs.js'
import type { Renewal } from '../core/mint-flow.js'

// The step summary holds only facts that are safe to publish: never the
// token, never the kubeconfig content.

export interface MintFacts {
  username: string
  namespace: string
  audiences: string[]
  boundTo: string
  requestedSeconds: number
  /** How the lifetime was decided, in words, and `lifetime-source`. */
  lifetimeReason: string
  lifetimeSource: string
  grantedSeconds: number
  expiration: string
  credentialId: string
  /** With renew-every: the kubeconfig renews, each token's life, until when. */
  renewal?: string
}

export function mintFacts(
  inputs: Inputs,
  lifetime: Lifetime,
  minted: MintedToken,
  renewal?: Renewal
): MintFacts {
  return {
    username: minted.username,
    namespace: inputs.namespace,
    audiences: inputs.audiences,
    boundTo: minted.boundTo,
    requestedSeconds: renewal?.tokenSeconds ?? lifetime.seconds,
    lifetimeReason: lifetime.reason,
    lifetimeSource: lifetime.source,
    grantedSeconds: minted.expiresIn,
    expiration: rfc3339(minted.expiration),
    credentialId: minted.credentialId,
    ...(renewal
      ? {
          renewal:
            `yes: the kubeconfig renews the token every ` +
            `${formatDuration(renewal.tokenSeconds)} or so (each bound to the ` +
            `same Secret) until ${rfc3339(new Date(renewal.windowEnd * 1000))}, ` +
            `then refuses`
        }
      : {})
  }
}

/** Outside a runner (local runs) there is no summary file to write to. */
function available(): boolean {
  return (process.env.GITHUB_STEP_SUMMARY ?? '') !== ''
}

/** The summary is written before enforceProof: say what the review found. */
function verifiedWords(username: string, proof: Proof | undefined): string {
  if (!proof?.identity) return 'no'
  return proof.identity.username === username
    ? `yes (${username})`
    : `no: it authenticates as ${proof.identity.username}`
}

export async function writeMainSummary(
  facts: MintFacts,
  proof: Proof | undefined
): Promise<void> {
  if (!available()) return
  const summary = core.summary.addHeading('ephemeral-scan-token', 2).addTable([
    [
      { data: 'Fact', header: true },
      { data: 'Value', header: true }
    ],
    ['Identity', facts.username],
    ['Verified with SelfSubjectReview', verifiedWords(facts.username, proof)],
    ['Namespace', facts.namespace],
    [
      'Audiences',
      facts.audiences.length
        ? facts.audiences.join(', ')
        : "the API server's default"
    ],
    ['Bound to', facts.boundTo],
    [
      'Lifetime',
      `requested ${formatDuration(facts.requestedSeconds)}, granted ${formatDuration(facts.grantedSeconds)}`
    ],
    [
      'How the lifetime was decided',
      `${facts.lifetimeReason} (lifetime-source: ${facts.lifetimeSource})`
    ],
    [facts.renewal ? 'First token expires at' : 'Expires at', facts.expiration],
    ['Credential id (jti, as in the audit log)', facts.credentialId],
    ...(facts.renewal ? [['Renewal', facts.renewal]] : [])
  ])
  if (proof && proof.checks.length > 0) {
    summary.addHeading('Permission checks', 3).addTable([
      [
        { data: 'Result', header: true },
        { data: 'Expected', header: true },
        { data: 'Actual', header: true },
        { data: 'Check (as interpreted)', header: true }
      ],
      ...proof.checks.map((c) => [
        c.ok ? '✅ ok' : '❌ mismatch',
        c.expected,
        answerWord(c),
        describeCheck(c.check)
      ])
    ])
  }
  if (proof?.privilege) {
    const findings = proof.privilege.findings
    summary.addHeading('Excess privilege', 3)
    if (findings.length === 0) {
      summary.addRaw(NONE_FOUND, true)
    } else {
      summary.addTable([
        [
          { data: 'Risk', header: true },
          { data: 'Evidence', header: true }
        ],
        ...findings.map((f) => [f.risk, f.evidence])
      ])
    }
    summary.addRaw(describeScope(proof.privilege), true)
  }
  await summary.write()
}

export async function writePostSummary(
  lines: string[],
  revoked: boolean,
  held: string
): Promise<void> {
  if (!available()) return
  await core.summary
    .addHeading('ephemeral-scan-token cleanup', 3)
    .addList([
      `Token revoked: ${revoked ? 'yes' : 'no'}`,
      `Token ${held}`,
      ...lines
    ])
    .write()
}
