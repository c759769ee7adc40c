import { afterEach } from '@jest/globals'
import { FakeRunner } from './runner.js'

/**
 * Runners for one test file. After each test, every runner that ran main but
 * not post runs post (as the real runner always would), then its temporary
 * directory goes, so no test leaves a Secret or file for the next.
 */
export function useRunners(): (jobEnv?: Record<string, string>) => FakeRunner {
  const live: FakeRunner[] = []
  afterEach(async () => {
    for (const runner of live.splice(0)) await runner.finish()
  })
  return (jobEnv = {}) => {
    const runner = new FakeRunner(jobEnv)
    live.push(runner)
    return runner
  }
}
