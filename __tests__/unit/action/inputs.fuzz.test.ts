/**
 * Property tests (fast-check) over every input of the main step: whatever the
 * workflow passes, getInputs() either returns inputs that mean exactly what a
 * valid workflow could ask for, or throws one InputError sentence that names
 * the input. Never a TypeError, never a half-parsed value.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fc from 'fast-check'
import { InputError } from '../../../src/core/errors.js'
import { isDnsLabel, isDnsSubdomain } from '../../../src/core/kube/formats.js'
import { getInputs, type Inputs } from '../../../src/action/inputs.js'
import { POD_EXTENSION_SECONDS } from '../../../src/core/token/lifetime.js'
import { TestRunner } from '../../../__fixtures__/runner.js'

const INPUTS = [
  'service-account',
  'namespace',
  'duration',
  'max-duration',
  'audiences',
  'bind-to',
  'kubeconfig',
  'context',
  'export-kubeconfig',
  'cleanup',
  'output-token',
  'verify',
  'expect-allowed',
  'expect-denied',
  'excess-privilege'
] as const

/** Any text an environment variable can hold (no NUL). */
const text = fc
  .string({ unit: 'binary', maxLength: 40 })
  .map((s) => s.replace(/\0/g, ''))

/** Values near the valid ones, where parsers make mistakes. */
const nearValid: Record<(typeof INPUTS)[number], fc.Arbitrary<string>> = {
  'service-account': fc.constantFrom(
    'scanner',
    'scanner.v2',
    ' scanner ',
    'Scanner',
    'a'.repeat(253),
    'a'.repeat(254),
    '-scanner',
    'scanner-',
    'scanner..v2',
    ''
  ),
  namespace: fc.constantFrom(
    'scans',
    'a'.repeat(63),
    'a'.repeat(64),
    'team.scans',
    'Scans',
    '',
    'kube-system'
  ),
  duration: fc.oneof(
    fc.constantFrom('auto', '10m', '1h', '1h30m', '3607s', '599', '1.5h'),
    fc.constantFrom('90m', '0.5s', '1e3', '-1h', '2h', '6h', '1h0m7s'),
    fc.integer({ min: 0, max: 2 ** 33 }).map(String)
  ),
  'max-duration': fc.constantFrom(
    '1h',
    '2h',
    '6h',
    '3607',
    '10m',
    '5m',
    '4294967296',
    '4294967297',
    'forever'
  ),
  audiences: fc
    .array(fc.constantFrom('vault', ' api ', 'https://k.example', ',', '\n'), {
      maxLength: 5
    })
    .map((parts) => parts.join('')),
  'bind-to': fc.constantFrom(
    'secret',
    'none',
    'pod:scanner-0',
    'pod: scanner-0 ',
    'pod:',
    'pod:Bad_Pod',
    'configmap',
    'Secret'
  ),
  kubeconfig: fc.constantFrom('', '  apiVersion: v1\n  kind: Config\n'),
  context: fc.constantFrom('', 'ci', ' ci '),
  'export-kubeconfig': fc.constantFrom('true', 'False', 'yes', ''),
  cleanup: fc.constantFrom('true', 'FALSE', 'no', ''),
  'output-token': fc.constantFrom('false', 'True', '1', ''),
  verify: fc.constantFrom('true', 'false', 'off', ''),
  'expect-allowed': fc.constantFrom(
    '',
    'list pods',
    'create pods/exec -n x\n# c\n\nget /healthz',
    '* *',
    'get pods -o yaml'
  ),
  'expect-denied': fc.constantFrom(
    '',
    'get secrets',
    '* *',
    'impersonate uids',
    'create daemonset.apps',
    'get pods -n'
  ),
  'excess-privilege': fc.constantFrom('warn', 'fail', 'off', '', 'strict')
}

/** A value for every input, each absent, near-valid or arbitrary. */
const workflow = fc.record(
  Object.fromEntries(
    INPUTS.map((name) => [
      name,
      fc.option(fc.oneof({ weight: 3, arbitrary: nearValid[name] }, text), {
        nil: undefined
      })
    ])
  ) as Record<(typeof INPUTS)[number], fc.Arbitrary<string | undefined>>
)

let runner: TestRunner
beforeAll(() => {
  runner = new TestRunner()
})
afterAll(() => {
  runner.restore()
})

/** What a valid Inputs value must look like, whatever produced it. */
function expectMeaningful(inputs: Inputs): void {
  expect(isDnsSubdomain(inputs.serviceAccount)).toBe(true)
  expect(isDnsLabel(inputs.namespace)).toBe(true)
  expect(inputs.maxDurationSeconds).toBeGreaterThanOrEqual(600)
  expect(inputs.maxDurationSeconds).toBeLessThanOrEqual(2 ** 32)
  if (inputs.duration.kind === 'explicit') {
    expect(Number.isInteger(inputs.duration.seconds)).toBe(true)
    expect(inputs.duration.seconds).toBeGreaterThanOrEqual(600)
    expect(inputs.duration.seconds).toBeLessThanOrEqual(
      inputs.maxDurationSeconds
    )
  }
  for (const audience of inputs.audiences) {
    expect(audience).not.toBe('')
    expect(audience).toBe(audience.trim())
    expect(audience).not.toMatch(/[,\n]/)
  }
  expect(new Set(inputs.audiences).size).toBe(inputs.audiences.length)
  if (inputs.bindTo.kind === 'pod') {
    expect(isDnsSubdomain(inputs.bindTo.name)).toBe(true)
    // The one lifetime that would become a year-long token is refused.
    // (auto asks for whole minutes plus 5m, so only a max-duration cap can hit it)
    expect(
      inputs.duration.kind === 'explicit'
        ? inputs.duration.seconds
        : inputs.maxDurationSeconds
    ).not.toBe(POD_EXTENSION_SECONDS)
  }
  expect(['warn', 'fail', 'off']).toContain(inputs.excessPrivilege)
  for (const check of [...inputs.expectAllowed, ...inputs.expectDenied]) {
    expect(check.line).not.toMatch(/[\r\n]/)
    expect(check.verb).toMatch(/^([a-z]+|\*)$/)
    if (check.namespace !== '') expect(isDnsLabel(check.namespace)).toBe(true)
  }
  for (const check of inputs.expectDenied) {
    expect(check.verb).not.toBe('*')
    expect(check.resource).not.toBe('*')
  }
}

/** One sentence that names one of the action's inputs. */
function expectOneSentence(error: unknown): void {
  expect(error).toBeInstanceOf(InputError)
  const message = (error as Error).message
  const named = /^Input '([a-z-]+)'/.exec(message)?.[1]
  expect(INPUTS as readonly string[]).toContain(named)
  expect(message).not.toMatch(/[\r\n\u2028\u2029]/)
  expect(message).toMatch(/\.$/)
}

describe('inputs.ts under arbitrary workflow inputs (fast-check)', () => {
  it('returns meaningful inputs or one InputError sentence naming the input', () => {
    fc.assert(
      fc.property(workflow, (values) => {
        const set: Record<string, string> = {}
        for (const [name, value] of Object.entries(values)) {
          if (value !== undefined) set[name] = value
        }
        runner.setInputs(set)
        let inputs: Inputs | undefined
        try {
          inputs = getInputs()
        } catch (error) {
          expectOneSentence(error)
          return
        }
        expectMeaningful(inputs)
      }),
      { numRuns: 4000 }
    )
  })
})
