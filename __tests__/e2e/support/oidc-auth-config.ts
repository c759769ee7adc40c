// The cluster side of the zero-secret bootstrap: a structured
// AuthenticationConfiguration (apiserver.config.k8s.io/v1, GA in 1.34) that
// makes kube-apiserver trust GitHub's OIDC issuer for one owner and a fixed
// set of workflows, passed with --authentication-config=<file>.
import * as fs from 'node:fs'
import * as yaml from 'js-yaml'
import type { GitHubJob } from './oidc-issuer.ts'

/** The real issuer; the tests use a loopback stand-in instead. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'

export interface GitHubTrust {
  /** `iss` exactly as in the tokens (no trailing slash), https only. */
  issuerUrl: string
  /** PEM CA for the issuer's TLS; omit to use the host's roots (real GitHub). */
  certificateAuthority?: string
  /** The `oidc-audience` the action requests. */
  audience: string
  /** `repository_owner_id`: numeric, so a renamed or re-registered owner does not inherit trust. */
  ownerId: string
  /** Exact `job_workflow_ref` values (`owner/repo/.github/workflows/x.yml@refs/heads/main`). */
  jobWorkflowRefs: string[]
  /** Which claim names the Kubernetes user; `repository` reads well, `repository_id` survives renames. */
  usernameClaim?: 'repository' | 'repository_id'
  /** Keeps GitHub identities apart from every other user (and from `system:`). Default `github:`. */
  usernamePrefix?: string
}

/** CEL string literal; JSON escapes are valid CEL escapes. */
const cel = (s: string): string => JSON.stringify(s)

/** The AuthenticationConfiguration object for `trust`. */
export function gitHubAuthenticationConfig(
  trust: GitHubTrust
): Record<string, unknown> {
  const prefix = trust.usernamePrefix ?? 'github:'
  const claim = trust.usernameClaim ?? 'repository'
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    jwt: [
      {
        issuer: {
          url: trust.issuerUrl,
          ...(trust.certificateAuthority
            ? { certificateAuthority: trust.certificateAuthority }
            : {}),
          audiences: [trust.audience]
        },
        claimValidationRules: [
          {
            expression: `claims.repository_owner_id == ${cel(trust.ownerId)}`,
            message: 'the token is not from the trusted repository owner'
          },
          {
            expression: `claims.job_workflow_ref in [${trust.jobWorkflowRefs.map(cel).join(', ')}]`,
            message: 'the token is not from a trusted workflow'
          }
        ],
        claimMappings: {
          // An expression, not claim+prefix: the prefix field is only
          // allowed with `claim`, and the expression reads the same.
          username: { expression: `${cel(prefix)} + claims.${claim}` },
          uid: { expression: 'claims.repository_id' }
        }
      }
    ]
  }
}

/** The user name the API server reports for a token from `job` under `trust`. */
export function mappedUsername(trust: GitHubTrust, job: GitHubJob): string {
  const value =
    (trust.usernameClaim ?? 'repository') === 'repository'
      ? `${job.owner}/${job.repo}`
      : job.repositoryId
  return `${trust.usernamePrefix ?? 'github:'}${value}`
}

/** `job_workflow_ref` of a job: what `jobWorkflowRefs` lists. */
export function jobWorkflowRef(job: GitHubJob): string {
  return `${job.owner}/${job.repo}/${job.workflow}@${job.ref}`
}

/** Write the configuration as YAML, readable by the API server only. */
export function writeAuthenticationConfig(
  file: string,
  trust: GitHubTrust
): string {
  const text = yaml.dump(gitHubAuthenticationConfig(trust), {
    lineWidth: -1
  })
  fs.writeFileSync(file, text, { mode: 0o600 })
  return text
}
