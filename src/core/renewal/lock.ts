import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { lockPath } from './credential.js'
import { readOwnFile } from './files.js'

// The renewal lock: a file created atomically with the holder's pid in it
// (written to a random name, then hard-linked to the lock's name, which
// fails if the lock exists). A lock is stale when its pid is no longer a
// live process. Why not proper-lockfile or an age limit: those call a lock
// stale by its mtime against the clock, which a runner's NTP step (and
// libfaketime in our tests) moves, and they need a timer that keeps
// touching the lock. The holder is always a process of this machine (the
// directory is the job's RUNNER_TEMP), so whether it is alive is a fact,
// not a guess. What remains: two waiters that find the same dead holder
// at the same moment may both take the lock, which costs one extra token
// (bound to the same Secret, revoked with it), never a wrong one.

/** How long a client waits for another's renewal: longer than one mint's 40 s. */
const WAIT_MS = 45_000
const POLL_MS = 25

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as { code?: string }).code === 'EPERM'
  }
}

/** The holder's pid, undefined when the lock is gone or holds no pid. */
function holder(file: string): number | undefined | 'gone' {
  const text = readOwnFile(file, 32)
  if (text === undefined) return 'gone'
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined
}

function tryCreate(file: string): boolean {
  const temp = path.join(
    path.dirname(file),
    `.lock.${randomBytes(8).toString('hex')}`
  )
  fs.writeFileSync(temp, String(process.pid), { mode: 0o600, flag: 'wx' })
  try {
    fs.linkSync(temp, file)
    return true
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false
    throw error
  } finally {
    fs.rmSync(temp, { force: true })
  }
}

/** Run `work` holding the renewal lock of `dir`; one renewal at a time. */
export async function withRenewalLock<T>(
  dir: string,
  work: () => Promise<T>,
  waitMs = WAIT_MS
): Promise<T> {
  const file = lockPath(dir)
  const started = performance.now()
  while (!tryCreate(file)) {
    const pid = holder(file)
    if (pid === 'gone') continue
    // A lock without a pid, or of a process that is gone: a crashed
    // holder. Removing it lets the next attempt take it.
    if (pid === undefined || !alive(pid)) {
      fs.rmSync(file, { force: true })
      continue
    }
    if (performance.now() - started > waitMs) {
      throw new ActionError(
        `Another client has been renewing the token for over ` +
          `${Math.round(waitMs / 1000)} s (process ${pid}), so no credential ` +
          `is printed: check that the runner reaches the API server, then ` +
          `run the command again.`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  try {
    return await work()
  } finally {
    if (holder(file) === process.pid) fs.rmSync(file, { force: true })
  }
}
