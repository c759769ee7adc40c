import { describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import { decideLifetime } from '../../../src/action/lifetime.js'

describe('lifetime.ts (unit)', () => {
  it('uses an explicit duration as it is, without a warning and without any GitHub API call', async () => {
    let calls = 0
    const server = http.createServer((_req, res) => {
      calls++
      res.writeHead(500).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    try {
      const lifetime = await decideLifetime(
        { kind: 'explicit', seconds: 1800 },
        3600,
        { githubToken: 'ghs_x', jobContext: '{"check_run_id": 7}' },
        {
          GITHUB_API_URL: `http://127.0.0.1:${port}`,
          GITHUB_REPOSITORY: 'o/r'
        }
      )
      expect(lifetime).toEqual({
        seconds: 1800,
        source: 'duration',
        reason: 'duration: 30m'
      })
      expect(calls).toBe(0)
    } finally {
      server.close()
    }
  })

  it('gives auto with nothing to read the default job timeout from now, capped, with one warning', async () => {
    const lifetime = await decideLifetime({ kind: 'auto' }, 3600, {
      githubToken: '',
      jobContext: ''
    })
    expect(lifetime.seconds).toBe(3600)
    expect(lifetime.source).toBe('assumed-default')
    expect(lifetime.reason).toMatch(
      /^duration: auto, .*capped at max-duration 1h$/
    )
    expect(lifetime.warning).toContain('job-timeout-minutes')
    expect(lifetime.warning).not.toContain('\n')
  })

  it('takes job-timeout-minutes without reading the workflow', async () => {
    const lifetime = await decideLifetime({ kind: 'auto' }, 3600, {
      githubToken: '',
      jobContext: '',
      jobTimeoutMinutes: 20
    })
    expect(lifetime.source).toBe('job-timeout-minutes')
    // Start unknown, counted from now: 20m + 5m.
    expect(lifetime.seconds).toBe(25 * 60)
  })
})
