import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../../../src/core/errors.js'
import {
  decideAutoLifetime,
  type AutoLifetimeInput
} from '../../../../src/core/token/auto-lifetime.js'
import { describeHeld } from '../../../../src/core/token/lifetime.js'
import { parseJobTimeoutMinutes } from '../../../../src/action/inputs.js'

const NOW = new Date('2026-11-23T12:00:00Z')
const HOUR = 3600

/** A start `seconds` before NOW. */
function startedAgo(seconds: number): AutoLifetimeInput['start'] {
  return {
    ok: true,
    value: { startedAt: new Date(NOW.getTime() - seconds * 1000) }
  }
}

const FORBIDDEN =
  "the GitHub API answered 403: the github-token lacks 'actions: read'"

/** One sentence: a single full stop, at the end. */
function expectOneSentence(text: string | undefined): void {
  expect(text).toBeDefined()
  expect(text).toMatch(/^duration: auto [^\n]+\.$/)
  expect(text).not.toMatch(/\.\s/)
}

describe('auto-lifetime.ts (unit)', () => {
  it('gives the remaining job time plus 5 minutes, in words, with no warning', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(10 * 60),
      timeout: { kind: 'minutes', minutes: 30 }
    })
    expect(lifetime).toEqual({
      seconds: 25 * 60,
      source: 'job',
      words: 'job started 10m ago, timeout 30m: 25m',
      warning: undefined
    })
  })

  it('rounds the remaining time up to whole minutes, so the words add up', () => {
    // 10m59s elapsed of 30m: 19m01s remain -> 20m, +5m.
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(10 * 60 + 59),
      timeout: { kind: 'minutes', minutes: 30 }
    })
    expect(lifetime.seconds).toBe(25 * 60)
    expect(lifetime.words).toBe('job started 10m ago, timeout 30m: 25m')
  })

  it('takes an absent timeout-minutes as GitHub’s 360 and, within max-duration, does not warn', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: 24 * HOUR,
      start: startedAgo(90 * 60),
      timeout: { kind: 'absent' }
    })
    expect(lifetime.seconds).toBe((360 - 90 + 5) * 60)
    expect(lifetime.source).toBe('job')
    expect(lifetime.words).toBe(
      "job started 1h30m ago, timeout 6h (GitHub's default): 4h35m"
    )
    expect(lifetime.warning).toBeUndefined()
  })

  it('caps at max-duration and says so in one sentence', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(10 * 60),
      timeout: { kind: 'absent' }
    })
    expect(lifetime.seconds).toBe(HOUR)
    expect(lifetime.source).toBe('job')
    expect(lifetime.words).toBe(
      "job started 10m ago, timeout 6h (GitHub's default): 5h55m, capped at max-duration 1h"
    )
    expect(lifetime.warning).toBe(
      "duration: auto capped the token at max-duration (1h) although the job may run 5h50m more; set 'max-duration' higher, or 'duration' to choose the lifetime yourself."
    )
    expectOneSentence(lifetime.warning)
  })

  it('is exactly max-duration, without a warning, when the job needs just that', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(5 * 60),
      timeout: { kind: 'minutes', minutes: 60 }
    })
    expect(lifetime.seconds).toBe(HOUR)
    expect(lifetime.warning).toBeUndefined()
  })

  it("never goes below the API server's 600 s, and says why in the words only", () => {
    const nearEnd = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(44 * 60),
      timeout: { kind: 'minutes', minutes: 45 }
    })
    expect(nearEnd.seconds).toBe(600)
    expect(nearEnd.words).toBe(
      "job started 44m ago, timeout 45m: 10m, the API server's minimum"
    )
    expect(nearEnd.warning).toBeUndefined()

    // A start past the timeout (clock skew) still gets the minimum.
    const overdue = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(3 * HOUR),
      timeout: { kind: 'minutes', minutes: 30 }
    })
    expect(overdue.seconds).toBe(600)

    // Exactly 600 s is not "below" it.
    const exact = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(40 * 60),
      timeout: { kind: 'minutes', minutes: 45 }
    })
    expect(exact.seconds).toBe(600)
    expect(exact.words).toBe('job started 40m ago, timeout 45m: 10m')
  })

  it('counts a start in the future (clock skew) as now', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(-120),
      timeout: { kind: 'minutes', minutes: 20 }
    })
    expect(lifetime.seconds).toBe(25 * 60)
    expect(lifetime.words).toBe('job started 0m ago, timeout 20m: 25m')
  })

  it('prefers job-timeout-minutes to the workflow file', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      jobTimeoutMinutes: 20,
      start: startedAgo(10 * 60),
      timeout: { kind: 'expression', text: '${{ inputs.minutes }}' }
    })
    expect(lifetime).toEqual({
      seconds: 15 * 60,
      source: 'job-timeout-minutes',
      words: 'job started 10m ago, job-timeout-minutes 20m: 15m',
      warning: undefined
    })
  })

  it('assumes 360 minutes for an expression and names the input that fixes it', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: 8 * HOUR,
      start: startedAgo(60 * 60),
      timeout: { kind: 'expression', text: '${{ inputs.minutes }}' }
    })
    expect(lifetime.seconds).toBe((360 - 60 + 5) * 60)
    expect(lifetime.source).toBe('assumed-default')
    expect(lifetime.words).toBe('job started 1h ago, timeout assumed 6h: 5h5m')
    expect(lifetime.warning).toBe(
      "duration: auto could not read the job's timeout-minutes (the job sets it with the expression ${{ inputs.minutes }}, which only the workflow run can evaluate), so it assumed GitHub's default of 360 minutes; set 'job-timeout-minutes' to the job's timeout-minutes, or 'duration' to choose the lifetime yourself."
    )
    expectOneSentence(lifetime.warning)
  })

  it('assumes 360 minutes for an unreadable file, and caps, in one sentence', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: startedAgo(0),
      timeout: {
        kind: 'unreadable',
        why: 'octo-org/shared/.github/workflows/scan.yml@abc1234 was not found, or the github-token cannot read octo-org/shared'
      }
    })
    expect(lifetime.seconds).toBe(HOUR)
    expect(lifetime.source).toBe('assumed-default')
    expect(lifetime.warning).toBe(
      "duration: auto could not read the job's timeout-minutes (octo-org/shared/.github/workflows/scan.yml@abc1234 was not found, or the github-token cannot read octo-org/shared), so it assumed GitHub's default of 360 minutes, and capped the token at max-duration (1h) although the job may run 6h more; set 'job-timeout-minutes' to the job's timeout-minutes, 'max-duration' higher, or 'duration' to choose the lifetime yourself."
    )
    expectOneSentence(lifetime.warning)
  })

  it('counts from now when the start is unknown, and says so', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: { ok: false, why: FORBIDDEN },
      timeout: { kind: 'minutes', minutes: 30 }
    })
    expect(lifetime.seconds).toBe(35 * 60)
    expect(lifetime.source).toBe('job')
    expect(lifetime.words).toBe(
      'start unknown, counted from now, timeout 30m: 35m'
    )
    expect(lifetime.warning).toBe(
      `duration: auto could not read when the job started (${FORBIDDEN}), so it counted from now; set 'duration' to choose the lifetime yourself.`
    )
    expectOneSentence(lifetime.warning)
  })

  it('puts everything that was assumed into one warning', () => {
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: HOUR,
      start: { ok: false, why: FORBIDDEN },
      timeout: undefined
    })
    expect(lifetime.seconds).toBe(HOUR)
    expect(lifetime.source).toBe('assumed-default')
    expect(lifetime.warning).toBe(
      `duration: auto could not read the job's timeout-minutes (nothing read it), so it assumed GitHub's default of 360 minutes, could not read when the job started (${FORBIDDEN}), so it counted from now, and capped the token at max-duration (1h) although the job may run 6h more; set 'job-timeout-minutes' to the job's timeout-minutes, 'max-duration' higher, or 'duration' to choose the lifetime yourself.`
    )
    expectOneSentence(lifetime.warning)
  })

  it('says a cause shared by both facts once (an API that is down)', () => {
    const down =
      'the GitHub API at https://ghes.example/api/v3 could not be reached: connect ECONNREFUSED 10.0.0.1:443'
    const lifetime = decideAutoLifetime({
      now: NOW,
      maxSeconds: 8 * HOUR,
      start: { ok: false, why: down },
      timeout: { kind: 'unreadable', why: down }
    })
    expect(lifetime.seconds).toBe((360 + 5) * 60)
    expect(lifetime.words).toBe(
      'start unknown, counted from now, timeout assumed 6h: 6h5m'
    )
    expect(lifetime.warning).toBe(
      `duration: auto could not read the job's timeout-minutes or when the job started (${down}), so it assumed GitHub's default of 360 minutes counted from now; set 'job-timeout-minutes' to the job's timeout-minutes, or 'duration' to choose the lifetime yourself.`
    )
    expectOneSentence(lifetime.warning)
  })

  it('cuts a timeout over 360 minutes on a GitHub-hosted runner, which stops jobs at 6h', () => {
    const input: AutoLifetimeInput = {
      now: NOW,
      maxSeconds: 24 * HOUR,
      start: startedAgo(60 * 60),
      timeout: { kind: 'minutes', minutes: 600 }
    }
    const hosted = decideAutoLifetime({ ...input, githubHosted: true })
    expect(hosted.seconds).toBe((360 - 60 + 5) * 60)
    expect(hosted.words).toBe(
      'job started 1h ago, timeout 10h, 6h on a GitHub-hosted runner: 5h5m'
    )
    expect(hosted.warning).toBeUndefined()
    const selfHosted = decideAutoLifetime(input)
    expect(selfHosted.seconds).toBe((600 - 60 + 5) * 60)
  })

  it('parses job-timeout-minutes: empty reads the workflow, else positive minutes', () => {
    expect(parseJobTimeoutMinutes('')).toBeUndefined()
    expect(parseJobTimeoutMinutes('  ')).toBeUndefined()
    expect(parseJobTimeoutMinutes('30')).toBe(30)
    expect(parseJobTimeoutMinutes(' 7.5 ')).toBe(7.5)
    for (const bad of ['0', '-5', '30m', 'abc', '1e3', '${{ inputs.t }}']) {
      expect(() => parseJobTimeoutMinutes(bad)).toThrow(InputError)
    }
    expect(() => parseJobTimeoutMinutes('30m')).toThrow(
      "Input 'job-timeout-minutes' is '30m', which is not a positive number of minutes: give the job's timeout-minutes, such as 30, or leave it empty."
    )
  })

  it('says how long the job held the token against what was granted', () => {
    const minted = new Date(NOW.getTime() - (12 * 60 + 4) * 1000)
    expect(describeHeld(minted, 25 * 60, NOW)).toBe('held 12m4s of 25m')
    expect(describeHeld(NOW, 600, NOW)).toBe('held 0s of 10m')
    // A clock that went back does not give a negative hold.
    expect(describeHeld(new Date(NOW.getTime() + 5000), 600, NOW)).toBe(
      'held 0s of 10m'
    )
  })
})
