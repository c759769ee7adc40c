import { describe, expect, it } from '@jest/globals'
import { resolveLifetime } from '../../../src/token/lifetime.js'

describe('lifetime.ts', () => {
  it('uses an explicit duration as it is, without a warning', () => {
    const lifetime = resolveLifetime({ kind: 'explicit', seconds: 1800 }, 3600)
    expect(lifetime.seconds).toBe(1800)
    expect(lifetime.reason).toBe('duration: 30m')
    expect(lifetime.warning).toBeUndefined()
  })

  it('gives auto the default job timeout plus 5 minutes when max-duration allows it', () => {
    const lifetime = resolveLifetime({ kind: 'auto' }, 24 * 3600)
    expect(lifetime.seconds).toBe(21900)
    expect(lifetime.reason).toMatch(/auto/)
    // The job's timeout was assumed, not read: the user is told so.
    expect(lifetime.warning).toContain(
      "could not read this job's timeout-minutes"
    )
    expect(lifetime.warning).toContain("set 'duration'")
  })

  it('gives auto exactly 21900 s, still warning that the timeout was assumed, when max-duration equals it', () => {
    const lifetime = resolveLifetime({ kind: 'auto' }, 21900)
    expect(lifetime.seconds).toBe(21900)
    expect(lifetime.warning).toContain('assumed')
  })

  it('caps auto at max-duration and warns, naming the duration input and a value to set', () => {
    const lifetime = resolveLifetime({ kind: 'auto' }, 3600)
    expect(lifetime.seconds).toBe(3600)
    expect(lifetime.reason).toMatch(/capped at max-duration 1h/)
    expect(lifetime.warning).toBeDefined()
    expect(lifetime.warning).toContain(`'duration'`)
    expect(lifetime.warning).toContain('(1h)')
    expect(lifetime.warning).toMatch(/duration: 30m/)
    expect(lifetime.warning).not.toContain('\n')
  })
})
