import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { TestRunner } from '../../../__fixtures__/runner.js'
import { SECRET_UID } from '../../../__fixtures__/fake-cluster-api.js'
import { getRunState } from '../../../src/action/state.js'
import {
  RunRecord,
  UntrustedStateError,
  verifyRunState,
  type RunState,
  type StateExpectations
} from '../../../src/core/run-record.js'

let runner: TestRunner
let dir: string

const NS = 'scans'
const SECRET = 'ephemeral-scan-token-4242-1-0123456789'
const SERVER = 'https://127.0.0.1:6443'

function expected(extra: Partial<StateExpectations> = {}): StateExpectations {
  return {
    namespace: NS,
    runnerTemp: runner.temp,
    bootstrap: { kubeconfigInput: true, context: '' },
    ...extra
  }
}

function genuine(extra: Partial<RunState> = {}): RunState {
  return {
    bootstrap: { source: { kind: 'input' }, context: 'ctx', server: SERVER },
    anchor: { namespace: NS, name: SECRET, uid: SECRET_UID, created: true },
    kubeconfigDir: dir,
    kubeconfigPath: path.join(dir, 'kubeconfig'),
    previousKubeconfig: null,
    mintedAt: '2026-12-06T10:00:00Z',
    expiration: '2026-12-06T11:00:00Z',
    grantedSeconds: 3600,
    lifetimeSource: 'duration',
    ...extra
  }
}

/** The reason verifyRunState gives, or 'trusted'. */
function verdict(value: unknown, expect_ = expected()): string {
  try {
    verifyRunState(value, expect_)
    return 'trusted'
  } catch (error) {
    if (error instanceof UntrustedStateError) return error.reason
    throw error
  }
}

beforeEach(() => {
  runner = new TestRunner()
  runner.newStep()
  dir = path.join(runner.temp, 'ephemeral-scan-token-00112233445566778899aabb')
  fs.mkdirSync(dir, { mode: 0o700 })
})

afterEach(() => {
  runner.restore()
})

describe('state.ts RunRecord', () => {
  it('saves the empty record before anything else, so a planted STATE_run never reaches post', () => {
    process.env.STATE_run = JSON.stringify(genuine())
    new RunRecord()
    expect(runner.stateHistory()).toEqual(['{}'])
    runner.passStateToNextStep()
    expect(getRunState(expected())).toBeUndefined()
  })

  it('saves every change at once, so a main that dies halfway leaves post the latest record', () => {
    const record = new RunRecord()
    record.bootstrap({ source: { kind: 'input' }, context: '', server: SERVER })
    record.perRunSecretPlanned({ namespace: NS, name: SECRET })
    expect(JSON.parse(runner.stateHistory().at(-1) ?? '')).toMatchObject({
      anchor: { namespace: NS, name: SECRET }
    })
    record.perRunSecretCreated(SECRET_UID)
    record.kubeconfigDir(dir)
    runner.passStateToNextStep()
    expect(getRunState(expected())).toEqual({
      bootstrap: { source: { kind: 'input' }, context: '', server: SERVER },
      anchor: { namespace: NS, name: SECRET, uid: SECRET_UID, created: true },
      kubeconfigDir: dir
    })
  })

  it('forgets a Secret that was certainly not created, and everything on clear', () => {
    const record = new RunRecord()
    record.perRunSecretPlanned({ namespace: NS, name: SECRET })
    record.perRunSecretNotCreated()
    expect(record.current).toEqual({})
    record.kubeconfigDir(dir)
    record.clear()
    expect(record.current).toEqual({})
    runner.passStateToNextStep()
    expect(getRunState(expected())).toBeUndefined()
  })

  it('hands out copies, so callers cannot change the record without saving', () => {
    const record = new RunRecord()
    record.kubeconfigDir('/tmp/x')
    record.current.kubeconfigDir = '/elsewhere'
    expect(record.current.kubeconfigDir).toBe('/tmp/x')
  })
})

describe('state.ts verifyRunState (R1: forged state)', () => {
  it('trusts the record main makes', () => {
    expect(verdict(genuine())).toBe('trusted')
    expect(verdict({})).toBe('trusted')
    expect(verdict(genuine({ renewEvery: 600 }))).toBe('trusted')
  })

  it.each([
    ['a string', '600'],
    ['below 10m', 599],
    ['a fraction', 600.5]
  ])('reads a renewEvery that is %s as untrusted', (_what, renewEvery) => {
    expect(verdict({ ...genuine(), renewEvery })).toBe(
      "its field 'renewEvery' is not a token lifetime in seconds"
    )
  })

  it.each<[string, Partial<RunState> | Record<string, unknown>, RegExp]>([
    [
      'a Secret in another namespace',
      { anchor: { namespace: 'prod', name: SECRET } },
      /namespace is not the 'namespace' input/
    ],
    [
      "the name '..'",
      { anchor: { namespace: NS, name: '..' } },
      /name is not one this action gives/
    ],
    [
      'an application Secret',
      { anchor: { namespace: NS, name: 'database-credentials' } },
      /name is not one/
    ],
    [
      "another run's Secret",
      {
        anchor: { namespace: NS, name: 'ephemeral-scan-token-999-1-0123456789' }
      },
      /name is not one/
    ],
    [
      'a name with a shell command',
      { anchor: { namespace: NS, name: `${SECRET};curl x|sh` } },
      /name is not one/
    ],
    [
      'a uid that is not one',
      { anchor: { namespace: NS, name: SECRET, uid: 'x' } },
      /uid is not a uid/
    ],
    [
      'a directory outside RUNNER_TEMP',
      { kubeconfigDir: '/home/runner/work/repo', kubeconfigPath: undefined },
      /not one this action creates directly under RUNNER_TEMP/
    ],
    [
      'a directory deeper inside RUNNER_TEMP',
      { kubeconfigDir: '', kubeconfigPath: undefined },
      /directly under RUNNER_TEMP/
    ],
    [
      'a kubeconfig file elsewhere',
      { kubeconfigPath: '/etc/passwd' },
      /kubeconfig file is not the one inside/
    ],
    ['a field main never saves', { extra: 1 }, /a field main never saves/],
    [
      'a timestamp that is not one',
      { expiration: 'soon\n::error::x' },
      /'expiration' is not a timestamp/
    ],
    [
      'no server',
      { bootstrap: { source: { kind: 'input' }, context: '' } },
      /API server is missing/
    ],
    [
      'an http:// server',
      {
        bootstrap: {
          source: { kind: 'input' },
          context: '',
          server: 'http://x'
        }
      },
      /not https/
    ],
    [
      'another source than the inputs',
      {
        bootstrap: {
          source: { kind: 'in-cluster' },
          context: '',
          server: SERVER
        }
      },
      /bootstrap identity is not the one the inputs give/
    ],
    [
      'a Secret without a bootstrap identity',
      { bootstrap: undefined },
      /names no bootstrap identity/
    ]
  ])('refuses %s', (_what, change, reason) => {
    const record = { ...genuine(), ...change } as Record<string, unknown>
    if (change.kubeconfigDir === '') {
      record.kubeconfigDir = path.join(runner.temp, 'x', path.basename(dir))
    }
    expect(verdict(JSON.parse(JSON.stringify(record)))).toMatch(reason)
  })

  it('trusts the record when a later step put a link or a file where the directory was: removal checks that, and revocation must not wait on it', () => {
    fs.rmSync(dir, { recursive: true })
    fs.symlinkSync(runner.root, dir)
    expect(verdict(genuine())).toBe('trusted')
  })

  it('trusts a kubeconfig directory that is already gone (nothing to remove)', () => {
    fs.rmSync(dir, { recursive: true })
    expect(verdict(genuine())).toBe('trusted')
  })

  it('checks the OIDC audience and server against the inputs', () => {
    const oidc = { audience: 'k8s', server: SERVER }
    const record = genuine({
      bootstrap: {
        source: { kind: 'oidc', audience: 'k8s' },
        context: '',
        server: SERVER
      }
    })
    const inputs = expected({
      bootstrap: { kubeconfigInput: false, context: '', oidc }
    })
    expect(verdict(record, inputs)).toBe('trusted')
    expect(
      verdict(
        record,
        expected({
          bootstrap: {
            kubeconfigInput: false,
            context: '',
            oidc: { ...oidc, audience: 'other' }
          }
        })
      )
    ).toMatch(/bootstrap identity/)
    expect(
      verdict(
        record,
        expected({
          bootstrap: {
            kubeconfigInput: false,
            context: '',
            oidc: { ...oidc, server: 'https://evil' }
          }
        })
      )
    ).toMatch(/API server/)
  })

  it('checks the context against the context input when one is given', () => {
    const inputs = expected({
      bootstrap: { kubeconfigInput: true, context: 'other' }
    })
    expect(verdict(genuine(), inputs)).toMatch(/'context' input/)
  })

  it('trusts nothing with an invalid namespace input', () => {
    expect(verdict(genuine(), expected({ namespace: undefined }))).toMatch(
      /namespace/
    )
  })

  it('never repeats a planted value in its reason', () => {
    const planted = 'PLANTED-VALUE-0123'
    for (const change of [
      { anchor: { namespace: planted, name: SECRET } },
      { anchor: { namespace: NS, name: planted } },
      { kubeconfigDir: `/${planted}` },
      { bootstrap: { source: { kind: planted }, context: '', server: SERVER } },
      { [planted]: 1 }
    ]) {
      expect(verdict({ ...genuine(), ...change })).not.toContain(planted)
    }
  })

  it('reads state that is not JSON as untrusted', () => {
    process.env.STATE_run = '{not json'
    expect(() => getRunState(expected())).toThrow(UntrustedStateError)
  })
})
