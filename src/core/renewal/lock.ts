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
// not a guess. A waiter removes a dead holder's lock only if it is still
// the same file (removeStale), so it never deletes a lock a live client
// took in between. What remains is narrower: a pid the system reused for
// another live process looks alive (the waiter gives up after 45 s), and
// a waiter that puts a live lock aside may let a third client in, which
// costs one extra token (bound to the same Secret, revoked with it).

/** How long a client waits for another's renewal: longer than one mint's 40 s. */
const WAIT_MS = 45_000
const POLL_MS = 25

function alive(pid: number): boolean {
  // 0 and 1 are never a helper: kill(0, 0) signals this process's own
  // group and always succeeds, 1 is init. A planted lock holding either
  // would otherwise make every renewal wait and fail.
  if (pid <= 1) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as { code?: string }).code === 'EPERM'
  }
}

/** The lock as one reader saw it: the holder's pid and the file's inode. */
interface Seen {
  /** Undefined when the lock holds no pid. */
  pid: number | undefined
  ino: number
}

/** The lock's holder, 'gone' when there is no lock. */
function holder(file: string): Seen | 'gone' {
  // The inode first, then the pid: if the lock is replaced in between, the
  // pid read is the newer holder's, which can only make the waiter wait.
  let ino: number
  try {
    ino = fs.lstatSync(file).ino
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 'gone'
    throw error
  }
  const text = readOwnFile(file, 32)
  if (text === undefined) return 'gone'
  return { pid: /^\d{1,10}$/.test(text) ? Number(text) : undefined, ino }
}

/**
 * Remove the stale lock `seen`, and only that one: it is first renamed
 * to a private name (atomic), then checked to be the same file (inode)
 * the waiter judged dead. If another waiter had meanwhile removed it and
 * a live client made a new lock, that new lock is put back under its name
 * instead of being deleted.
 */
export function removeStale(file: string, seen: Seen): void {
  const aside = path.join(
    path.dirname(file),
    `.stale.${randomBytes(8).toString('hex')}`
  )
  try {
    fs.renameSync(file, aside)
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return
    throw error
  }
  try {
    if (fs.lstatSync(aside).ino !== seen.ino) {
      try {
        fs.linkSync(aside, file)
      } catch (error) {
        // Someone took the lock in between: it is theirs, and the client
        // put aside holds none any more (it checks before it releases);
        // at worst one extra token, bound to the same Secret.
        if ((error as { code?: string }).code !== 'EEXIST') throw error
      }
    }
  } finally {
    fs.rmSync(aside, { force: true })
  }
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
    const seen = holder(file)
    if (seen === 'gone') continue
    const pid = seen.pid
    // A lock without a pid, or of a process that is gone: a crashed
    // holder. Removing it lets the next attempt take it.
    if (pid === undefined || !alive(pid)) {
      removeStale(file, seen)
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
    const seen = holder(file)
    if (seen !== 'gone' && seen.pid === process.pid) removeStale(file, seen)
  }
}
