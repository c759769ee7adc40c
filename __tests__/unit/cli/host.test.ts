// The CLI's host, with process output captured (mocked streams): which
// masker it uses on which CI, and that it prints no workflow command
// outside GitHub Actions.
import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import { cliHost, redactorFor } from '../../../src/cli/host.js'
import { nameScope } from '../../../src/cli/naming.js'
import { flagWords } from '../../../src/cli/flag-words.js'

let written: string[]
beforeEach(() => {
  written = []
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk))
    return true
  })
})
afterEach(() => {
  jest.restoreAllMocks()
})

describe('the CLI host (mocked stderr)', () => {
  it('uses ::add-mask:: only on GitHub Actions; on GitLab or a shell it prints nothing for a mask', () => {
    expect(redactorFor({ GITHUB_ACTIONS: 'true' })).toBe('github')
    expect(redactorFor({ BUILDKITE: 'true' })).toBe('buildkite')
    expect(redactorFor({ GITLAB_CI: 'true' })).toBe('none')
    cliHost('none', undefined).mask('s3cret')
    cliHost('none', undefined).warning('careful')
    expect(written.join('')).toBe('Warning: careful\n')
    cliHost('github', undefined).mask('s3cret')
    expect(written.at(-1)).toBe('::add-mask::s3cret\n')
  })

  it('refuses to save a record where the command keeps none', () => {
    expect(() => {
      cliHost('none', undefined).saveRecord('{}')
    }).toThrow(/saves no record/)
  })
})

describe('nameScope', () => {
  it('names per-run Secrets for the CI job, and only from values of a strict shape', () => {
    expect(nameScope({})).toBe('cli')
    expect(nameScope({ GITLAB_CI: 'true', CI_JOB_ID: '123' })).toBe(
      'cli-gitlab-123'
    )
    expect(nameScope({ GITLAB_CI: 'true', CI_JOB_ID: '../x' })).toBe('cli')
    expect(
      nameScope({
        BUILDKITE: 'true',
        BUILDKITE_JOB_ID: '0190A0B1-1111-2222-3333-444455556666'
      })
    ).toBe('cli-buildkite-0190a0b1-1111-2222-3333-444455556666')
    expect(
      nameScope({
        GITHUB_ACTIONS: 'true',
        GITHUB_RUN_ID: '77',
        GITHUB_RUN_ATTEMPT: '2'
      })
    ).toBe('cli-github-77-2')
  })
})

describe('flagWords', () => {
  it("rewrites the action's input names into flags, and leaves values alone", () => {
    expect(
      flagWords(
        "Input 'duration' is '5m', but set 'duration' to 10m; 'secret' stays."
      )
    ).toBe(
      "Flag --duration is '5m', but set --duration to 10m; 'secret' stays."
    )
    expect(flagWords("the 'kubeconfig' input (or KUBECONFIG)")).toBe(
      'The flag --kubeconfig (or KUBECONFIG)'
    )
  })
})
