/**
 * A GitLab job: GITLAB_CI is 'true' on GitLab's runners, and 'false' under
 * gitlab-ci-local, which still sets GitLab's CI_JOB_* variables.
 */
export function isGitLab(env: NodeJS.ProcessEnv): boolean {
  return env.GITLAB_CI === 'true' || env.GITLAB_CI === 'false'
}

/**
 * The CLI's part of its per-run Secret names
 * (`ephemeral-scan-token-<scope>-<10 hex>`): `cli`, and the CI job where
 * the CI names one, so that revoke in the same job accepts only names of
 * that job (GitLab's after_script sees the same CI_JOB_ID), and neither the
 * action nor another job's CLI run can be made to delete them. Only values
 * of a strict shape are used; anything else leaves the plain `cli`.
 */
export function nameScope(env: NodeJS.ProcessEnv): string {
  if (isGitLab(env) && /^\d{1,20}$/.test(env.CI_JOB_ID ?? '')) {
    return `cli-gitlab-${env.CI_JOB_ID ?? ''}`
  }
  const job = (env.BUILDKITE_JOB_ID ?? '').toLowerCase()
  if (env.BUILDKITE === 'true' && /^[0-9a-f-]{36}$/.test(job)) {
    return `cli-buildkite-${job}`
  }
  if (
    env.GITHUB_ACTIONS === 'true' &&
    /^\d{1,20}$/.test(env.GITHUB_RUN_ID ?? '') &&
    /^\d{1,5}$/.test(env.GITHUB_RUN_ATTEMPT ?? '')
  ) {
    return `cli-github-${env.GITHUB_RUN_ID ?? ''}-${env.GITHUB_RUN_ATTEMPT ?? ''}`
  }
  return 'cli'
}
