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
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  cliHost,
  onBuildkiteAgent,
  redactorFor
} from '../../../src/cli/host.js'
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

let temp: string
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'est-runner-temp-'))
  fs.mkdirSync(path.join(temp, '_runner_file_commands'))
  for (const name of ['set_env_1', 'save_state_1']) {
    fs.writeFileSync(path.join(temp, '_runner_file_commands', name), '')
  }
})
afterEach(() => {
  fs.rmSync(temp, { recursive: true, force: true })
})

/** What GitHub's runner sets: GITHUB_ACTIONS and its command files under RUNNER_TEMP. */
function runner(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: temp,
    GITHUB_ENV: path.join(temp, '_runner_file_commands', 'set_env_1'),
    GITHUB_STATE: path.join(temp, '_runner_file_commands', 'save_state_1'),
    ...extra
  }
}

describe('H1: GITHUB_ACTIONS alone is not GitHub (real files in a temp dir)', () => {
  it.each([
    ['GITHUB_ACTIONS alone', { GITHUB_ACTIONS: 'true' }],
    ['with GITLAB_CI=true', { GITLAB_CI: 'true' }],
    ['with GITLAB_CI=false (gitlab-ci-local)', { GITLAB_CI: 'false' }],
    [
      'with CI_JOB_ID and CI_SERVER_URL',
      { CI_JOB_ID: '1', CI_SERVER_URL: 'https://gitlab.example' }
    ],
    ['with BUILDKITE', { BUILDKITE: 'true' }],
    ['with JENKINS_URL', { JENKINS_URL: 'https://jenkins.example' }],
    ['with TF_BUILD', { TF_BUILD: 'True' }],
    ['with CIRCLECI', { CIRCLECI: 'true' }]
  ])('refuses (no mask line) %s', (_name, extra) => {
    const env = _name === 'GITHUB_ACTIONS alone' ? extra : runner(extra)
    expect(() => redactorFor(env)).toThrow(
      /GITHUB_ACTIONS is 'true' but this is not GitHub's runner/
    )
  })

  it('refuses when GITHUB_ENV or GITHUB_STATE is missing, outside RUNNER_TEMP, a link or a directory', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'est-outside-'))
    const file = path.join(outside, 'env')
    fs.writeFileSync(file, '')
    const link = path.join(temp, 'link')
    fs.symlinkSync(file, link)
    try {
      for (const extra of [
        { GITHUB_ENV: undefined },
        { GITHUB_STATE: path.join(temp, 'nope') },
        { GITHUB_ENV: file },
        { GITHUB_ENV: link },
        { GITHUB_STATE: path.join(temp, '_runner_file_commands') },
        { GITHUB_ENV: `${temp}/../${path.basename(outside)}/env` },
        { RUNNER_TEMP: undefined },
        { RUNNER_TEMP: 'relative' }
      ]) {
        expect(() => redactorFor(runner(extra))).toThrow(/not GitHub's runner/)
      }
    } finally {
      fs.rmSync(outside, { recursive: true, force: true })
    }
  })

  it('masks with ::add-mask:: only on the real runner', () => {
    expect(redactorFor(runner())).toBe('github')
  })
})

describe('L3: Buildkite only in an agent job', () => {
  it('needs the agent access token or job API socket besides BUILDKITE=true', () => {
    expect(onBuildkiteAgent({ BUILDKITE: 'true' })).toBe(false)
    expect(redactorFor({ BUILDKITE: 'true' })).toBe('none')
    expect(
      onBuildkiteAgent({
        BUILDKITE: 'true',
        BUILDKITE_AGENT_JOB_API_SOCKET: '/tmp/s'
      })
    ).toBe(true)
    expect(
      onBuildkiteAgent({
        BUILDKITE: 'false',
        BUILDKITE_AGENT_ACCESS_TOKEN: 'a'
      })
    ).toBe(false)
  })
})

describe('the CLI host (mocked stderr)', () => {
  it('uses ::add-mask:: only on GitHub Actions; on GitLab or a shell it prints nothing for a mask', () => {
    expect(redactorFor(runner())).toBe('github')
    expect(
      redactorFor({ BUILDKITE: 'true', BUILDKITE_AGENT_ACCESS_TOKEN: 'a' })
    ).toBe('buildkite')
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
