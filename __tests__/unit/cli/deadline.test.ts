// duration: auto on other CI systems, from their variables alone (no
// network): GitLab's start and timeout, Buildkite's timeout, and the one
// sentence where nothing names a deadline.
import { describe, expect, it } from '@jest/globals'
import { decideCliLifetime } from '../../../src/cli/deadline.js'

const NOW = new Date('2026-12-07T12:00:00Z')
const AUTO = { kind: 'auto' } as const

describe('decideCliLifetime', () => {
  it('GitLab: CI_JOB_STARTED_AT + CI_JOB_TIMEOUT - now + 5m, from the action arithmetic', () => {
    const env = {
      GITLAB_CI: 'true',
      CI_JOB_STARTED_AT: '2026-12-07T11:50:00Z',
      CI_JOB_TIMEOUT: '3600'
    }
    const lifetime = decideCliLifetime(AUTO, 7200, 'auto', env, NOW)
    expect(lifetime).toMatchObject({ seconds: 55 * 60, source: 'job' })
    expect(lifetime.warning).toBeUndefined()
    expect(lifetime.reason).toContain('GitLab job started 10m ago, timeout 1h')
  })

  it('caps at --max-duration and says so in flag words', () => {
    const env = {
      GITLAB_CI: 'true',
      CI_JOB_STARTED_AT: '2026-12-07T11:50:00Z',
      CI_JOB_TIMEOUT: '10800'
    }
    const lifetime = decideCliLifetime(AUTO, 3600, 'gitlab', env, NOW)
    expect(lifetime.seconds).toBe(3600)
    expect(lifetime.warning).toContain('--max-duration')
    expect(lifetime.warning).not.toContain("'max-duration'")
  })

  it('Buildkite: BUILDKITE_TIMEOUT minutes, counted from now', () => {
    const lifetime = decideCliLifetime(
      AUTO,
      7200,
      'auto',
      { BUILDKITE: 'true', BUILDKITE_TIMEOUT: '30' },
      NOW
    )
    expect(lifetime).toMatchObject({ seconds: 35 * 60, source: 'job' })
    expect(lifetime.reason).toContain('counted from now')
  })

  it.each([
    ['no CI', {}, /no CI system/],
    [
      'GitLab without CI_JOB_TIMEOUT',
      { GITLAB_CI: 'true', CI_JOB_STARTED_AT: '2026-12-07T11:50:00Z' },
      /CI_JOB_TIMEOUT is not set/
    ],
    [
      'a GitLab start that is not a time',
      {
        GITLAB_CI: 'true',
        CI_JOB_STARTED_AT: 'yesterday',
        CI_JOB_TIMEOUT: '60'
      },
      /CI_JOB_STARTED_AT is not a UTC time/
    ],
    [
      'a start in the future',
      {
        GITLAB_CI: 'true',
        CI_JOB_STARTED_AT: '2027-01-01T00:00:00Z',
        CI_JOB_TIMEOUT: '60'
      },
      /not a UTC time before now/
    ],
    [
      'Buildkite without a timeout',
      { BUILDKITE: 'true', BUILDKITE_TIMEOUT: 'false' },
      /no timeout/
    ],
    ['GitHub Actions', { GITHUB_ACTIONS: 'true' }, /the action does/]
  ])(
    'falls back to --max-duration with one sentence: %s',
    (_name, env, why) => {
      const lifetime = decideCliLifetime(AUTO, 1800, 'auto', env, NOW)
      expect(lifetime).toMatchObject({
        seconds: 1800,
        source: 'assumed-default'
      })
      expect(lifetime.warning).toMatch(why)
      expect(lifetime.warning?.split('. ')).toHaveLength(1)
    }
  )

  it('uses an explicit --duration as it is, reading nothing', () => {
    expect(
      decideCliLifetime(
        { kind: 'explicit', seconds: 900 },
        3600,
        'gitlab',
        {},
        NOW
      )
    ).toEqual({ seconds: 900, source: 'duration', reason: 'duration: 15m' })
  })
})
