import { afterAll, describe, expect, it } from '@jest/globals'
import { decideLifetime } from '../../../src/action/lifetime.js'

// @actions/github sets up its proxy when it is first loaded, from the
// process environment; this file's module registry has not loaded it yet.
const saved = process.env.HTTPS_PROXY
process.env.HTTPS_PROXY = 'socks5://127.0.0.1:1080'

afterAll(() => {
  if (saved === undefined) Reflect.deleteProperty(process.env, 'HTTPS_PROXY')
  else process.env.HTTPS_PROXY = saved
})

describe('lifetime.ts behind a SOCKS HTTPS_PROXY (unit, real @actions/github)', () => {
  it('falls back with one warning when the GitHub client cannot be set up, instead of failing the step', async () => {
    const lifetime = await decideLifetime(
      { kind: 'auto' },
      3600,
      {
        githubToken: 'ghs_proxytest0123456789',
        jobContext: '{"check_run_id": 7}'
      },
      {
        GITHUB_API_URL: 'https://api.github.com',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '1',
        GITHUB_JOB: 'scan'
      }
    )
    expect(lifetime.source).toBe('assumed-default')
    expect(lifetime.seconds).toBe(3600)
    expect(lifetime.warning).toContain('the GitHub client could not be set up')
    expect(lifetime.warning).not.toContain('ghs_proxytest')
  })
})
