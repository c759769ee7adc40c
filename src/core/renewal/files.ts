import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { OWN_DIR } from '../names.js'

// The renewal files live in the kubeconfig's own 0700 directory, which main
// made with an unpredictable name. Everything here refuses what main could
// not have made: a link, a directory or file of another user or with wider
// modes, a file larger than any this code writes. The directory is named on
// the helper's command line, and the kubeconfig that names it is readable
// by every later step, so these checks are the helper's trust boundary.

/** Names of the files in the kubeconfig directory. */
export const RENEWAL_CONFIG = 'renewal.json'
export const TOKEN_CACHE = 'token.json'
export const MINT_RECORD = 'minted.log'
export const LOCK_FILE = 'renew.lock'

/** Thrown when the directory or a file is not what main made. */
export class ForeignFileError extends ActionError {}

function uid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined
}

/**
 * The kubeconfig directory, if it is one main made: an absolute path whose
 * name is this action's, a real directory (not a link), owned by this user,
 * mode 0700. 'gone' when nothing is there (post removed it).
 */
export function checkRenewalDir(dir: string): 'ok' | 'gone' {
  if (!path.isAbsolute(dir) || !OWN_DIR.test(path.basename(dir))) {
    throw new ForeignFileError(
      `The credential helper was given a directory this action did not ` +
        `create, so it prints no credential: use the kubeconfig the ` +
        `ephemeral-scan-token step wrote, unchanged.`
    )
  }
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(dir)
  } catch (error) {
    // Only "does not exist" means post removed it; anything else (no
    // permission, a file or a loop on the path) is not main's directory.
    const code = (error as { code?: string }).code
    if (code === 'ENOENT') return 'gone'
    throw new ForeignFileError(
      `The kubeconfig directory could not be looked at ` +
        `(${typeof code === 'string' && /^E[A-Z]{1,15}$/.test(code) ? code : 'an error'}), ` +
        `so no credential is printed: do not change that directory or ` +
        `the ones above it, and re-run the job.`
    )
  }
  const me = uid()
  if (
    !stat.isDirectory() ||
    (me !== undefined && stat.uid !== me) ||
    (stat.mode & 0o777) !== 0o700
  ) {
    throw new ForeignFileError(
      `The kubeconfig directory is not the private directory the ` +
        `ephemeral-scan-token step created (a link, another owner or wider ` +
        `permissions), so no credential is printed: do not change that ` +
        `directory, and re-run the job.`
    )
  }
  return 'ok'
}

/**
 * A file of the directory, opened without following a link and read only
 * if it is a regular file of this user, mode 0600, at most `max` bytes.
 * Undefined when it does not exist.
 */
export function readOwnFile(file: string, max: number): string | undefined {
  let fd: number
  try {
    // O_NONBLOCK: a FIFO planted in the file's place must not hang the
    // open; the type is checked on the descriptor right after.
    fd = fs.openSync(
      file,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK
    )
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined
    throw foreign(file)
  }
  try {
    const stat = fs.fstatSync(fd)
    const me = uid()
    if (
      !stat.isFile() ||
      (me !== undefined && stat.uid !== me) ||
      (stat.mode & 0o777) !== 0o600 ||
      stat.size > max
    ) {
      throw foreign(file)
    }
    const buffer = Buffer.alloc(stat.size)
    let read = 0
    while (read < stat.size) {
      const n = fs.readSync(fd, buffer, read, stat.size - read, read)
      if (n === 0) break
      read += n
    }
    return buffer.subarray(0, read).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
}

function foreign(file: string): ForeignFileError {
  return new ForeignFileError(
    `The file ${path.basename(file)} in the kubeconfig directory is not one ` +
      `the ephemeral-scan-token step or its helper wrote (a link, another ` +
      `owner, other permissions, another name for it, not a regular file ` +
      `or too large), so no credential is printed: ` +
      `do not change that directory, and re-run the job.`
  )
}

/**
 * Replace `file` with `content` atomically: a new 0600 file with a random
 * name, created exclusively without following links, then renamed over the
 * old one, so a reader sees the old content or the new, never a part.
 */
export function writeAtomically(file: string, content: string): void {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(8).toString('hex')}`
  )
  const fd = fs.openSync(
    temp,
    fs.constants.O_WRONLY |
      fs.constants.O_CREAT |
      fs.constants.O_EXCL |
      fs.constants.O_NOFOLLOW,
    0o600
  )
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeFileSync(fd, content)
    fs.fsyncSync(fd)
  } catch (error) {
    fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    throw error
  }
  fs.closeSync(fd)
  fs.renameSync(temp, file)
}

/** Create `file` (0600, must not exist) with `content`. */
export function writeNew(file: string, content: string): void {
  const fd = fs.openSync(file, 'wx', 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeFileSync(fd, content)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Append one line to `file` (0600, created if absent): never through a
 * link, never into a FIFO (O_NONBLOCK: opening one without a reader fails
 * instead of hanging), and only into a regular file of this user with a
 * single name, so a hard link to another of the user's files planted as
 * the record is not written to.
 */
export function appendLine(file: string, line: string): void {
  let fd: number
  try {
    fd = fs.openSync(
      file,
      fs.constants.O_WRONLY |
        fs.constants.O_APPEND |
        fs.constants.O_CREAT |
        fs.constants.O_NOFOLLOW |
        fs.constants.O_NONBLOCK,
      0o600
    )
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') {
      throw foreign(file)
    }
    throw error
  }
  try {
    const stat = fs.fstatSync(fd)
    const me = uid()
    if (
      !stat.isFile() ||
      (me !== undefined && stat.uid !== me) ||
      stat.nlink !== 1 ||
      (stat.mode & 0o777) !== 0o600
    ) {
      throw foreign(file)
    }
    fs.writeSync(fd, `${line}\n`)
  } finally {
    fs.closeSync(fd)
  }
}
