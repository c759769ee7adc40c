// mint's exit status after a failure, with the core's mint flow, the
// identity and the rollback mocked (no API server): 3 and 4 say nothing is
// left, so when the rollback reports a problem the status is 6 ("something
// may be left"), and the state file stays for revoke.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import { ActionError } from '../../../src/core/errors.js'
import type { RunRecord } from '../../../src/core/run-record.js'

const problems: string[] = []
jest.unstable_mockModule('../../../src/core/cleanup.js', () => ({
  rollBack: jest.fn(() =>
    Promise.resolve({ done: [], problems: [...problems], revoked: false })
  )
}))
jest.unstable_mockModule('../../../src/core/mint-flow.js', () => ({
  mintAndProve: jest.fn(
    (_b: unknown, _r: unknown, _c: unknown, _l: unknown, record: RunRecord) => {
      record.bootstrap({
        source: { kind: 'files', paths: ['/bootstrap.kubeconfig'] },
        context: 'c',
        server: 'https://203.0.113.10:6443'
      })
      record.perRunSecretPlanned({
        namespace: 'ns',
        name: 'ephemeral-scan-token-cli-0123456789'
      })
      return Promise.reject(
        new ActionError('The API server refused the TokenRequest.')
      )
    }
  ),
  writeOwnKubeconfig: jest.fn()
}))
jest.unstable_mockModule('../../../src/cli/identity.js', () => ({
  openIdentity: jest.fn(() =>
    Promise.resolve({
      ref: {
        source: { kind: 'files', paths: ['/bootstrap.kubeconfig'] },
        context: 'c',
        server: 'https://203.0.113.10:6443'
      }
    })
  ),
  withholdCredentialsFromChildren: jest.fn()
}))

const { mint } = await import('../../../src/cli/mint.js')
const { parseMintFlags } = await import('../../../src/cli/flags.js')

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-mint-exit-'))
  problems.length = 0
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true)
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
})
afterEach(() => {
  jest.restoreAllMocks()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function mintOnce(): Promise<number> {
  const options = parseMintFlags(
    [
      '--service-account',
      'scanner',
      '--namespace',
      'ns',
      '--kubeconfig',
      '/bootstrap.kubeconfig',
      '--dir',
      dir,
      '--duration',
      '15m'
    ],
    {}
  )
  if (options === 'help') throw new Error('help')
  return mint(options, {})
}

describe('L1: mint exit status after a rollback (mocked core)', () => {
  it('is 3 (could not mint, nothing left) when the rollback undid everything', async () => {
    expect(await mintOnce()).toBe(3)
  })

  it('is 6 (something may be left) when the rollback reports a problem, and keeps the state file', async () => {
    problems.push('Could not revoke the token: the API server did not answer.')
    expect(await mintOnce()).toBe(6)
    expect(fs.readdirSync(dir)).toEqual([
      expect.stringMatching(/^ephemeral-scan-token-[0-9a-f]{24}\.state\.json$/)
    ])
  })
})
