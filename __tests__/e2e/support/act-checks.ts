import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { eventually, kubectl } from './cluster.js'
import { leaksOf } from './runner.js'

/** The test-only action whose post step lists RUNNER_TEMP after every other post. */
export const WATCH_RUNNER_TEMP = {
  'e2e/watch-runner-temp@v1': path.join(
    import.meta.dirname,
    '..',
    'act',
    'watch-runner-temp'
  )
}

/** What the watcher's post step found in RUNNER_TEMP after the action's post. */
export interface RunnerTempAfterPosts {
  runnerTemp: string
  left: string[]
}

export function readWatch(drop: string): RunnerTempAfterPosts {
  return JSON.parse(
    fs.readFileSync(path.join(drop, 'runner-temp-after-posts.json'), 'utf8')
  ) as RunnerTempAfterPosts
}

/** A private directory outside RUNNER_TEMP for what a workflow hands back. */
export function newDrop(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'act-drop-'))
}

/** What steps printed: act shows each line as `[workflow/job]   | text`. */
export function stepLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /^\[[^\]]+\] +\| (.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined)
}

/** The rest of the first step line that starts with `prefix`, or undefined. */
export function stepValue(output: string, prefix: string): string | undefined {
  return stepLines(output)
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length)
}

/**
 * True once the API server rejects the kubeconfig's token (401). Polled: the
 * API server caches successful authentications for about 10 seconds, so a
 * token used just before it was revoked keeps working that long.
 */
export function revoked(kubeconfigFile: string): Promise<boolean> {
  return eventually(30, async () => {
    const res = await kubectl(kubeconfigFile, ['get', 'pods'])
    return (
      res.code !== 0 && /Unauthorized|You must be logged in/.test(res.stderr)
    )
  })
}

/**
 * Where any of `secrets` (whole, base64, or a JWT's payload segment) shows in
 * `output`. act masks whole values only, so a part would get through.
 */
export function leaks(output: string, secrets: string[]): string[] {
  const found: string[] = []
  for (const secret of secrets) {
    if (secret === '') throw new Error('an empty secret cannot be looked for')
    found.push(...leaksOf(secret, output))
    const payload = secret.split('.')[1]
    if (payload && payload.length > 20 && output.includes(payload))
      found.push('(the payload segment of a token)')
  }
  return found
}
