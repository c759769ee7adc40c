// The credential helper's decisions, with a mocked minter (no network) and
// a controlled clock, in a real directory made the way main makes it. The
// lock is the real one (it is about processes and files, not the network).
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  credentialFor,
  lockPath,
  marginSeconds,
  renewAt,
  type HelperParts,
  type Minter
} from '../../../../src/core/renewal/credential.js'
import { withRenewalLock } from '../../../../src/core/renewal/lock.js'
import { mintReport } from '../../../../src/core/renewal/report.js'
import {
  MAX_RECORD_ENTRIES,
  parseMintRecord,
  type RenewalConfig
} from '../../../../src/core/renewal/state.js'
import {
  T0,
  config,
  jti,
  jwt,
  makeRenewalDir
} from '../../../../__fixtures__/renewal-dir.js'

let root: string
let dir: string

beforeEach(() => {
  ;({ root, dir } = makeRenewalDir('est-renewal-unit-'))
})

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true })
})

/** Parts with a clock at `at` (seconds) and a minter that counts its calls. */
function parts(
  at: number,
  options: { delayMs?: number; granted?: number } = {}
): HelperParts & { calls: { seconds: number }[] } {
  const calls: { seconds: number }[] = []
  let n = 1
  const mint: Minter = async (_config: RenewalConfig, seconds: number) => {
    calls.push({ seconds })
    n += 1
    if (options.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, options.delayMs))
    }
    return {
      token: jwt(`renewed-${n}`),
      grantedSeconds: options.granted ?? seconds,
      credentialId: jti(n)
    }
  }
  return { now: () => at * 1000, mint, lock: withRenewalLock, calls }
}

describe('the renewal margin', () => {
  it('is 20 % of the token life, never below 2 minutes', () => {
    expect(marginSeconds(600)).toBe(120)
    expect(marginSeconds(300)).toBe(120)
    expect(marginSeconds(3600)).toBe(720)
    expect(renewAt({ issuedAt: T0, expiresAt: T0 + 600 })).toBe(T0 + 480)
  })
})

describe('credentialFor (mocked minter)', () => {
  it('hands out the cached token while it is fresh, expiring at the renewal point', async () => {
    const p = parts(T0 + 479)
    const credential = await credentialFor(dir, p)
    expect(credential).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {
        token: jwt('first'),
        expirationTimestamp: new Date((T0 + 480) * 1000)
          .toISOString()
          .replace('.000Z', 'Z')
      }
    })
    expect(p.calls).toEqual([])
  })

  it('renews at the margin, writes the cache atomically and records the id, not the token', async () => {
    const p = parts(T0 + 480)
    const credential = await credentialFor(dir, p)
    expect(p.calls).toEqual([{ seconds: 600 }])
    expect(credential.status.token).toBe(jwt('renewed-2'))
    const cache = JSON.parse(
      fs.readFileSync(path.join(dir, 'token.json'), 'utf8')
    ) as Record<string, unknown>
    expect(cache).toEqual({
      version: 1,
      token: jwt('renewed-2'),
      issuedAt: T0 + 480,
      expiresAt: T0 + 1080
    })
    expect(fs.statSync(path.join(dir, 'token.json')).mode & 0o777).toBe(0o600)
    const record = fs.readFileSync(path.join(dir, 'minted.log'), 'utf8')
    expect(record).toBe(`${jti(1)} ${T0 + 600}\n${jti(2)} ${T0 + 1080}\n`)
    expect(record).not.toContain('renewed')
    // No temporary file or lock is left behind.
    expect(fs.readdirSync(dir).sort()).toEqual([
      'minted.log',
      'renewal.json',
      'token.json'
    ])
    // And the next client gets the new token from the cache.
    const next = parts(T0 + 481)
    expect((await credentialFor(dir, next)).status.token).toBe(jwt('renewed-2'))
    expect(next.calls).toEqual([])
  })

  it('mints once for eight clients that find the token due at the same moment', async () => {
    const clients = Array.from({ length: 8 }, () =>
      parts(T0 + 500, { delayMs: 50 })
    )
    const results = await Promise.all(clients.map((p) => credentialFor(dir, p)))
    expect(clients.flatMap((p) => p.calls)).toHaveLength(1)
    expect(new Set(results.map((r) => r.status.token)).size).toBe(1)
    expect(
      fs.readFileSync(path.join(dir, 'minted.log'), 'utf8').split('\n')
    ).toHaveLength(3)
  })

  it('takes over a lock whose holder is gone', async () => {
    // A pid that is no process: the holder crashed mid-renewal.
    fs.writeFileSync(lockPath(dir), '2147483646', { mode: 0o600 })
    const p = parts(T0 + 500)
    await credentialFor(dir, p)
    expect(p.calls).toHaveLength(1)
    expect(fs.existsSync(lockPath(dir))).toBe(false)
  })

  it('waits for a live holder and then gives up with one sentence', async () => {
    // This process holds the lock (as another client would).
    fs.writeFileSync(lockPath(dir), String(process.pid), { mode: 0o600 })
    await expect(
      withRenewalLock(dir, () => Promise.resolve('ran'), 200)
    ).rejects.toThrow(/^Another client has been renewing the token/)
  })

  it('never hands out a credential past the window, and asks only for what is left of it', async () => {
    // The cache would last longer, but the client must come back at the window's end.
    const late = parts(config.windowEnd - 700)
    const credential = await credentialFor(dir, late)
    expect(late.calls).toEqual([{ seconds: 600 }])
    expect(credential.status.expirationTimestamp).toBe(
      new Date((config.windowEnd - 700 + 480) * 1000)
        .toISOString()
        .replace('.000Z', 'Z')
    )
    // 5 minutes before the end: the API server's minimum is asked for.
    const near = parts(config.windowEnd - 300)
    fs.rmSync(path.join(dir, 'token.json'))
    const capped = await credentialFor(dir, near)
    expect(near.calls).toEqual([{ seconds: 600 }])
    expect(capped.status.expirationTimestamp).toBe(
      new Date(config.windowEnd * 1000).toISOString().replace('.000Z', 'Z')
    )
  })

  it('refuses after the window with one sentence, without minting', async () => {
    const p = parts(config.windowEnd)
    await expect(credentialFor(dir, p)).rejects.toThrow(
      /^The renewal window of this job ended at 2027-01-15T09:00:00Z, so no new token is printed: raise the action's 'duration'/
    )
    expect(p.calls).toEqual([])
  })

  it('says the post step ran when the directory is gone', async () => {
    fs.rmSync(dir, { recursive: true })
    await expect(credentialFor(dir, parts(T0))).rejects.toThrow(
      /post step ran, which revoked every token of this job/
    )
  })

  describe('refuses what main did not make', () => {
    const refused = /not (one|the private directory)|did not create/

    it('a directory without the action’s name', async () => {
      const other = path.join(root, 'kubeconfigs')
      fs.mkdirSync(other, { mode: 0o700 })
      await expect(credentialFor(other, parts(T0))).rejects.toThrow(refused)
    })

    it('a directory others can read', async () => {
      fs.chmodSync(dir, 0o755)
      await expect(credentialFor(dir, parts(T0))).rejects.toThrow(refused)
    })

    it('a link in the directory’s place', async () => {
      const real = `${dir}-real`
      fs.renameSync(dir, real)
      const link = path.join(
        root,
        `ephemeral-scan-token-${randomBytes(12).toString('hex')}`
      )
      fs.symlinkSync(real, link)
      await expect(credentialFor(link, parts(T0))).rejects.toThrow(refused)
    })

    it.each([
      [
        'a link as the cache',
        (): void => {
          const elsewhere = path.join(root, 'elsewhere.json')
          fs.copyFileSync(path.join(dir, 'token.json'), elsewhere)
          fs.rmSync(path.join(dir, 'token.json'))
          fs.symlinkSync(elsewhere, path.join(dir, 'token.json'))
        }
      ],
      [
        'a cache others can read',
        (): void => {
          fs.chmodSync(path.join(dir, 'token.json'), 0o644)
        }
      ],
      [
        'a corrupted cache',
        (): void => {
          fs.writeFileSync(path.join(dir, 'token.json'), '{"version":1,')
        }
      ],
      [
        'a cache with a field main never writes',
        (): void => {
          const file = path.join(dir, 'token.json')
          const cache = JSON.parse(fs.readFileSync(file, 'utf8')) as object
          fs.writeFileSync(file, JSON.stringify({ ...cache, extra: 1 }))
        }
      ],
      [
        'an oversized cache',
        (): void => {
          // Valid JSON, a cache main could have written, padded past the
          // 32 KiB limit: only the size check refuses it.
          const file = path.join(dir, 'token.json')
          const cache = fs.readFileSync(file, 'utf8')
          fs.writeFileSync(file, `${cache}${' '.repeat(40_000)}`)
        }
      ],
      [
        'a configuration pointing at a plain-http server',
        (): void => {
          const file = path.join(dir, 'renewal.json')
          const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as object
          fs.writeFileSync(
            file,
            JSON.stringify({ ...raw, server: 'http://203.0.113.10' })
          )
        }
      ],
      [
        'a configuration without the Secret uid',
        (): void => {
          const file = path.join(dir, 'renewal.json')
          const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as object
          fs.writeFileSync(
            file,
            JSON.stringify({ ...raw, secret: { name: config.secret.name } })
          )
        }
      ]
    ])('%s', async (_name, tamper) => {
      tamper()
      const p = parts(T0 + 500)
      await expect(credentialFor(dir, p)).rejects.toThrow(refused)
      expect(p.calls).toEqual([])
    })
  })
})

describe('the record post reads (untrusted)', () => {
  it('reports every credential-id main and the helper recorded', async () => {
    await credentialFor(dir, parts(T0 + 500))
    const lines = mintReport(dir)
    expect(lines[0]).toMatch(/^The job minted 2 tokens, all bound/)
    expect(lines[1]).toBe(
      `credential-ids (jti, as the audit log records them): ${jti(1)}, ${jti(2)}`
    )
  })

  it.each([
    ['a line that is not an id and a time', `${jti(1)} 1\nrm -rf /\n`],
    ['a token instead of an id', `${jwt('x')} 1\n`],
    [
      'more entries than any job mints',
      `${jti(1)} 1\n`.repeat(MAX_RECORD_ENTRIES + 1)
    ]
  ])('reads %s as unreadable, and says so', (_name, raw) => {
    expect(parseMintRecord(raw)).toBeUndefined()
    fs.writeFileSync(path.join(dir, 'minted.log'), raw)
    expect(mintReport(dir)).toEqual([
      expect.stringMatching(
        /^The record of renewed tokens could not be read .* revokes every one of them all the same\.$/
      )
    ])
  })

  it('does not follow a link in the record’s place', () => {
    const elsewhere = path.join(root, 'elsewhere.log')
    fs.writeFileSync(elsewhere, `${jti(7)} 1\n`, { mode: 0o600 })
    fs.rmSync(path.join(dir, 'minted.log'))
    fs.symlinkSync(elsewhere, path.join(dir, 'minted.log'))
    expect(mintReport(dir)[0]).toMatch(/could not be read/)
  })
})
