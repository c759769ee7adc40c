// The attacker review's findings on the renewal files, lock and record:
// each test plants what a later step (same user) could plant, in a real
// directory made the way main makes it, with a mocked minter (no network).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  credentialFor,
  lockPath,
  type HelperParts
} from '../../../../src/core/renewal/credential.js'
import {
  removeStale,
  withRenewalLock
} from '../../../../src/core/renewal/lock.js'
import { mintReport } from '../../../../src/core/renewal/report.js'
import { execUser } from '../../../../src/core/renewal/setup.js'
import {
  parseMintRecord,
  parseRenewalConfig
} from '../../../../src/core/renewal/state.js'
import {
  T0,
  jti,
  jwt,
  makeRenewalDir
} from '../../../../__fixtures__/renewal-dir.js'

const refused = /not (one|the private directory)|did not create/
const unreadable = /^The record of renewed tokens could not be read/

let root: string
let dir: string

beforeEach(() => {
  ;({ root, dir } = makeRenewalDir('est-renewal-review-'))
})

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true })
})

function parts(at: number): HelperParts & { calls: number[] } {
  const calls: number[] = []
  return {
    calls,
    now: () => at * 1000,
    lock: withRenewalLock,
    mint: (_config, seconds): ReturnType<HelperParts['mint']> => {
      calls.push(seconds)
      return Promise.resolve({
        token: jwt('renewed'),
        grantedSeconds: seconds,
        credentialId: jti(2)
      })
    }
  }
}

function rewriteConfig(change: Record<string, unknown>): void {
  const file = path.join(dir, 'renewal.json')
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as object
  fs.writeFileSync(file, JSON.stringify({ ...raw, ...change }))
}

describe('finding 1: a record line cannot stop post (the report never throws)', () => {
  it('reads an expiry past what a date can hold as unreadable, and the report says so', () => {
    const raw = `${jti(1)} 9999999999999\n`
    expect(parseMintRecord(raw)).toBeUndefined()
    fs.appendFileSync(path.join(dir, 'minted.log'), `${jti(9)} 9999999999999\n`)
    expect(mintReport(dir)).toEqual([expect.stringMatching(unreadable)])
  })

  it('says the record could not be read when the directory is not main’s, instead of throwing', () => {
    fs.chmodSync(dir, 0o755)
    expect(mintReport(dir)).toEqual([expect.stringMatching(unreadable)])
  })
})

describe('finding 3: a FIFO or a hard link in a file’s place', () => {
  it('refuses a FIFO as the cache instead of hanging', async () => {
    fs.rmSync(path.join(dir, 'token.json'))
    execFileSync('mkfifo', ['-m', '600', path.join(dir, 'token.json')])
    const p = parts(T0 + 100)
    await expect(credentialFor(dir, p)).rejects.toThrow(refused)
    expect(p.calls).toEqual([])
  })

  it('reports a FIFO as the record as unreadable instead of hanging', () => {
    fs.rmSync(path.join(dir, 'minted.log'))
    execFileSync('mkfifo', ['-m', '600', path.join(dir, 'minted.log')])
    expect(mintReport(dir)).toEqual([expect.stringMatching(unreadable)])
  })

  it('refuses a FIFO as the record when renewing instead of hanging', async () => {
    fs.rmSync(path.join(dir, 'minted.log'))
    execFileSync('mkfifo', ['-m', '600', path.join(dir, 'minted.log')])
    await expect(credentialFor(dir, parts(T0 + 500))).rejects.toThrow(refused)
  })

  it('does not append to another file of the user hard-linked as the record (finding 10)', async () => {
    const victim = path.join(root, 'victim')
    fs.writeFileSync(victim, 'precious\n', { mode: 0o600 })
    fs.rmSync(path.join(dir, 'minted.log'))
    fs.linkSync(victim, path.join(dir, 'minted.log'))
    await expect(credentialFor(dir, parts(T0 + 500))).rejects.toThrow(refused)
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n')
  })
})

describe('finding 4: renewal.json cannot ask for a long token or window', () => {
  it.each([
    ['a token lifetime of 2^40 s', { tokenSeconds: 2 ** 40 }],
    ['a token lifetime over 6 h 10 m', { tokenSeconds: 22_201 }],
    ['a token lifetime under 600 s', { tokenSeconds: 599 }],
    ['a window ending in 2^40 s', { windowEnd: 2 ** 40 }],
    [
      'a window ending more than 6 h 10 m from now',
      { windowEnd: T0 + 22_200 + 500 + 301 }
    ]
  ])('refuses %s without minting', async (_name, change) => {
    rewriteConfig(change)
    const p = parts(T0 + 500)
    await expect(credentialFor(dir, p)).rejects.toThrow(refused)
    expect(p.calls).toEqual([])
  })

  it('accepts the longest window and token main writes', () => {
    const raw = fs.readFileSync(path.join(dir, 'renewal.json'), 'utf8')
    const longest = { ...(JSON.parse(raw) as object), tokenSeconds: 22_200 }
    expect(parseRenewalConfig(JSON.stringify(longest)).tokenSeconds).toBe(
      22_200
    )
  })
})

describe('finding 5: the lock', () => {
  it.each(['0', '1'])(
    'takes over a planted lock holding pid %s (kill(0, 0) is this process group)',
    async (pid) => {
      fs.writeFileSync(lockPath(dir), pid, { mode: 0o600 })
      await expect(
        withRenewalLock(dir, () => Promise.resolve('ran'), 200)
      ).resolves.toBe('ran')
    }
  )

  it('removes a stale lock only if it is still the file judged stale', () => {
    const file = lockPath(dir)
    fs.writeFileSync(file, '2147483646', { mode: 0o600 })
    const stale = { pid: 2147483646, ino: fs.lstatSync(file).ino }
    // Meanwhile the dead holder's lock was removed by another waiter and a
    // live client took the lock: a new file under the same name.
    const fresh = path.join(dir, '.fresh')
    fs.writeFileSync(fresh, String(process.pid), { mode: 0o600 })
    fs.renameSync(fresh, file)
    removeStale(file, stale)
    expect(fs.readFileSync(file, 'utf8')).toBe(String(process.pid))
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([])
  })
})

describe('finding 7: only a missing directory means post ran', () => {
  it('says the directory could not be looked at when a file stands in the path', async () => {
    const file = path.join(root, 'a-file')
    fs.writeFileSync(file, '')
    const under = path.join(
      file,
      `ephemeral-scan-token-${randomBytes(12).toString('hex')}`
    )
    const error = await credentialFor(under, parts(T0)).catch(
      (e: unknown) => e as Error
    )
    expect((error as Error).message).toMatch(
      /^The kubeconfig directory could not be looked at \(ENOTDIR\)/
    )
    expect((error as Error).message).not.toMatch(/post step ran/)
  })
})

describe('finding 9: the exec user empties NODE_OPTIONS', () => {
  it('sets NODE_OPTIONS to empty for the helper', () => {
    const user = execUser('/usr/bin/node', '/a/dist/credential.js', dir) as {
      exec: { env?: unknown }
    }
    expect(user.exec.env).toEqual([{ name: 'NODE_OPTIONS', value: '' }])
  })
})
