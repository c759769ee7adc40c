import { describe, expect, it } from '@jest/globals'
import { jobTimeoutFromWorkflow } from '../../../../src/action/github/workflow-timeout.js'

/** Workflow text from lines, so the YAML indentation is visible in the test. */
function workflow(...lines: string[]): string {
  return lines.join('\n') + '\n'
}

const FILE = 'octo-org/scan-repo/.github/workflows/scan.yml@abc1234'

describe('workflow-timeout.ts (unit)', () => {
  it('reads a top-level job with a number', () => {
    const text = workflow(
      'name: scan',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 5',
      '  inspec:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 30',
      '    steps:',
      '      - run: true'
    )
    expect(jobTimeoutFromWorkflow(text, 'inspec')).toEqual({
      kind: 'minutes',
      minutes: 30
    })
    expect(jobTimeoutFromWorkflow(text, 'build')).toEqual({
      kind: 'minutes',
      minutes: 5
    })
  })

  it('says absent when the job sets no timeout (GitHub then stops it at 360 minutes)', () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  inspec:',
      '    runs-on: ubuntu-latest',
      '    steps: [{run: "true"}]'
    )
    expect(jobTimeoutFromWorkflow(text, 'inspec')).toEqual({ kind: 'absent' })
  })

  it('reads a matrix job by its key, whatever the expanded names', () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  scan:',
      '    name: scan (${{ matrix.cluster }})',
      '    strategy:',
      '      matrix:',
      '        cluster: [dev, prod]',
      '        include:',
      '          - cluster: prod',
      '            minutes: 50',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 40',
      '  per-leg:',
      '    strategy:',
      '      matrix:',
      '        minutes: [10, 20]',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: ${{ matrix.minutes }}'
    )
    expect(jobTimeoutFromWorkflow(text, 'scan')).toEqual({
      kind: 'minutes',
      minutes: 40
    })
    // A matrix value is only known to the run: an expression, not a guess.
    expect(jobTimeoutFromWorkflow(text, 'per-leg')).toEqual({
      kind: 'expression',
      text: '${{ matrix.minutes }}'
    })
  })

  it('reads the job of a reusable workflow file (on: workflow_call)', () => {
    const text = workflow(
      'on:',
      '  workflow_call:',
      '    inputs:',
      '      timeout:',
      '        type: number',
      '        default: 25',
      'jobs:',
      '  inspec:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 25',
      '  from-input:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: ${{ inputs.timeout }}'
    )
    expect(jobTimeoutFromWorkflow(text, 'inspec')).toEqual({
      kind: 'minutes',
      minutes: 25
    })
    expect(jobTimeoutFromWorkflow(text, 'from-input')).toEqual({
      kind: 'expression',
      text: '${{ inputs.timeout }}'
    })
  })

  it("refuses the caller's job that calls a reusable workflow: its timeout is in the called file", () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  inspec:',
      '    uses: octo-org/shared/.github/workflows/scan.yml@v1',
      '    with: {timeout: 25}'
    )
    expect(jobTimeoutFromWorkflow(text, 'inspec', FILE)).toEqual({
      kind: 'unreadable',
      why: `job 'inspec' in ${FILE} calls a reusable workflow, whose own file sets the timeout`
    })
  })

  it('follows YAML anchors, aliases and merge keys as GitHub does', () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  first:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: &minutes 20',
      '  second:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: *minutes',
      '  template: &job',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 45',
      '  copy: *job',
      '  merged:',
      '    <<: *job',
      '    name: merged',
      '  overridden:',
      '    <<: *job',
      '    timeout-minutes: 15'
    )
    const read = (job: string): unknown => jobTimeoutFromWorkflow(text, job)
    expect(read('second')).toEqual({ kind: 'minutes', minutes: 20 })
    expect(read('copy')).toEqual({ kind: 'minutes', minutes: 45 })
    expect(read('merged')).toEqual({ kind: 'minutes', minutes: 45 })
    expect(read('overridden')).toEqual({ kind: 'minutes', minutes: 15 })
  })

  it('says which job key is missing, and finds a key that differs only in case', () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  Inspec:',
      '    runs-on: ubuntu-latest',
      '    timeout-minutes: 12'
    )
    expect(jobTimeoutFromWorkflow(text, 'trivy', FILE)).toEqual({
      kind: 'unreadable',
      why: `${FILE} has no job 'trivy'`
    })
    // GitHub refuses two job ids that differ only in case, so one such key is the job.
    expect(jobTimeoutFromWorkflow(text, 'inspec')).toEqual({
      kind: 'minutes',
      minutes: 12
    })
    // A job id that is an Object property name is still looked up as a key.
    for (const inherited of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(jobTimeoutFromWorkflow(text, inherited, FILE)).toEqual({
        kind: 'unreadable',
        why: `${FILE} has no job '${inherited}'`
      })
    }
  })

  it('refuses a GITHUB_JOB that breaks the job id rules', () => {
    const text = workflow('jobs:', '  a:', '    timeout-minutes: 1')
    expect(jobTimeoutFromWorkflow(text, '')).toEqual({
      kind: 'unreadable',
      why: 'GITHUB_JOB is empty'
    })
    for (const key of ['1st', '-x', 'a b', 'a.b', 'x'.repeat(100)]) {
      expect(jobTimeoutFromWorkflow(text, key).kind).toBe('unreadable')
    }
    for (const key of ['_a', 'a-1_B', 'x'.repeat(99)]) {
      expect(
        jobTimeoutFromWorkflow(
          workflow('jobs:', `  ${key}:`, '    timeout-minutes: 3'),
          key
        )
      ).toEqual({ kind: 'minutes', minutes: 3 })
    }
  })

  it.each([
    ["'30'", { kind: 'minutes', minutes: 30 }],
    ['" 45 "', { kind: 'minutes', minutes: 45 }],
    ['"7.5"', { kind: 'minutes', minutes: 7.5 }],
    [
      "'${{ inputs.minutes }}'",
      { kind: 'expression', text: '${{ inputs.minutes }}' }
    ],
    [
      '"${{ fromJSON(inputs.minutes) }}"',
      { kind: 'expression', text: '${{ fromJSON(inputs.minutes) }}' }
    ],
    [
      "'${{ github.event_name == ''push'' && 10 || 60 }}'",
      {
        kind: 'expression',
        text: "${{ github.event_name == 'push' && 10 || 60 }}"
      }
    ]
  ])('reads timeout-minutes: %s', (value, expected) => {
    const text = workflow('jobs:', '  scan:', `    timeout-minutes: ${value}`)
    expect(jobTimeoutFromWorkflow(text, 'scan')).toEqual(expected)
  })

  it.each([
    ['0', 'to 0, which is not a positive number of minutes'],
    ['-5', 'to -5, which is not a positive number of minutes'],
    ['.inf', 'to Infinity, which is not a positive number of minutes'],
    ["'30m'", "to '30m', which is not a number"],
    ["'0'", 'to 0, which is not a positive number of minutes'],
    ['true', 'to a boolean, not a number'],
    ['[30]', 'to a list, not a number'],
    ['{minutes: 30}', 'to a mapping, not a number'],
    ['', 'to nothing, not a number']
  ])('says why timeout-minutes: %s cannot be used', (value, why) => {
    const text = workflow('jobs:', '  scan:', `    timeout-minutes: ${value}`)
    expect(jobTimeoutFromWorkflow(text, 'scan', FILE)).toEqual({
      kind: 'unreadable',
      why: `job 'scan' in ${FILE} sets timeout-minutes ${why}`
    })
  })

  it('shortens a very long expression in what it reports', () => {
    const long = `\${{ ${'inputs.x || '.repeat(20)}1 }}`
    const text = workflow('jobs:', '  scan:', `    timeout-minutes: '${long}'`)
    const result = jobTimeoutFromWorkflow(text, 'scan')
    expect(result.kind).toBe('expression')
    const shown = result.kind === 'expression' ? result.text : ''
    expect(shown).toHaveLength(80)
    expect(shown.endsWith('…')).toBe(true)
  })

  it('reports a file that is not YAML by line, without echoing the file', () => {
    const text = workflow(
      'on: push',
      'jobs:',
      '  scan:',
      '    env: {PASSWORD: "do-not-echo"',
      '    timeout-minutes: 5'
    )
    const result = jobTimeoutFromWorkflow(text, 'scan', FILE)
    expect(result.kind).toBe('unreadable')
    const why = result.kind === 'unreadable' ? result.why : ''
    expect(why).toMatch(
      new RegExp(`^${FILE} is not valid YAML: .+ on line \\d+$`)
    )
    expect(why).not.toContain('do-not-echo')
    expect(why).not.toContain('\n')
  })

  it.each([
    ['an empty file', ''],
    ['plain text', 'This is a README, not a workflow.'],
    ['a YAML list', '- jobs\n- scan\n'],
    ['two documents', 'jobs: {}\n---\njobs: {}\n'],
    ['jobs as a list', 'jobs:\n  - scan\n'],
    ['binary bytes', '\u0000\u0001\u0002PK\u0003\u0004'],
    ['a duplicated job key', 'jobs:\n  scan: {}\n  scan: {}\n'],
    ['an alias to nothing', 'jobs:\n  scan: *nothing\n']
  ])('never throws, and says unreadable, for %s', (_, text) => {
    const result = jobTimeoutFromWorkflow(text, 'scan')
    expect(result.kind).toBe('unreadable')
  })

  it('says unreadable when the job is not a mapping', () => {
    expect(
      jobTimeoutFromWorkflow('jobs:\n  scan: yes please\n', 'scan', FILE)
    ).toEqual({
      kind: 'unreadable',
      why: `job 'scan' in ${FILE} is not a mapping`
    })
  })
})
