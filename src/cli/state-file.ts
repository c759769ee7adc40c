import * as fs from 'node:fs'
import * as path from 'node:path'
import { InputError } from '../core/errors.js'
import { quoted } from '../core/errors.js'

/** A state file holds a few hundred bytes; anything much larger is not ours. */
const MAX_BYTES = 64 * 1024

/**
 * mint's record on disk, for revoke in another shell. Created exclusively
 * (0600, O_EXCL: never an existing file, never through a link) and then
 * rewritten only through the descriptor that created it, so nothing a
 * later path swap puts in its place is ever written. It holds no credential
 * (RunRecord never does).
 */
export class StateFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly ino: number
  ) {}

  static create(file: string): StateFile {
    const absolute = path.resolve(file)
    let fd: number
    try {
      fd = fs.openSync(
        absolute,
        fs.constants.O_WRONLY |
          fs.constants.O_CREAT |
          fs.constants.O_EXCL |
          fs.constants.O_NOFOLLOW,
        0o600
      )
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unknown error'
      throw new InputError(
        code === 'EEXIST'
          ? `Flag --state names ${quoted(absolute)}, which already exists: give a path that does not exist yet (each mint writes its own state file), or run revoke with that file first.`
          : `Flag --state names ${quoted(absolute)}, which cannot be created (${code}): give a new file in an existing directory you can write, outside anything your CI uploads as artifacts.`
      )
    }
    fs.fchmodSync(fd, 0o600)
    return new StateFile(absolute, fd, fs.fstatSync(fd).ino)
  }

  write(json: string): void {
    fs.ftruncateSync(this.fd, 0)
    fs.writeSync(this.fd, json, 0, 'utf8')
    fs.fsyncSync(this.fd)
  }

  /** Remove the file (when nothing is left to revoke), if it is still this one. */
  remove(): void {
    fs.closeSync(this.fd)
    try {
      if (fs.lstatSync(this.path).ino === this.ino) fs.unlinkSync(this.path)
    } catch {
      // Already gone.
    }
  }

  close(): void {
    fs.closeSync(this.fd)
  }
}

/** What revoke read: the parsed JSON (still untrusted), or that there is no file. */
export type ReadState =
  { kind: 'missing' } | { kind: 'read'; value: unknown; remove: () => void }

/**
 * Read a state file as untrusted input: a regular file opened without
 * following a link, at most 64 KiB, JSON. Its content is checked by the
 * caller (verifyRunState and revoke's own checks).
 */
export function readStateFile(file: string): ReadState {
  const absolute = path.resolve(file)
  let fd: number
  try {
    fd = fs.openSync(
      absolute,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK
    )
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error'
    if (code === 'ENOENT') return { kind: 'missing' }
    throw new InputError(
      code === 'ELOOP'
        ? `Flag --state names ${quoted(absolute)}, which is a symbolic link: give the state file mint wrote itself.`
        : `Flag --state names ${quoted(absolute)}, which cannot be read (${code}): give the state file mint wrote.`
    )
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile() || stat.size > MAX_BYTES) {
      throw new InputError(
        `Flag --state names ${quoted(absolute)}, which is not a state file mint writes (${stat.isFile() ? 'too large' : 'not a regular file'}): give the file mint wrote.`
      )
    }
    const text = fs.readFileSync(fd, 'utf8')
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = Symbol('not JSON')
    }
    const ino = stat.ino
    return {
      kind: 'read',
      value,
      remove: (): void => {
        try {
          if (fs.lstatSync(absolute).ino === ino) fs.unlinkSync(absolute)
        } catch {
          // Already gone.
        }
      }
    }
  } finally {
    fs.closeSync(fd)
  }
}
