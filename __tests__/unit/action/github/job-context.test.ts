import { describe, expect, it } from '@jest/globals'
import { parseJobContext } from '../../../../src/action/github/job-context.js'

const SHA = 'abc123def456789abc123def456789abc123def4'

describe('job-context.ts (unit)', () => {
  it('reads the job context GitHub.com hands a job (the documented example)', () => {
    const raw = JSON.stringify({
      status: 'success',
      check_run_id: 51725241954,
      workflow_ref:
        'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main',
      workflow_sha: SHA,
      workflow_repository: 'octo-org/octo-repo',
      workflow_file_path: '.github/workflows/deploy.yml',
      container: { network: 'github_network_53269bd5' },
      services: {}
    })
    expect(parseJobContext(raw)).toEqual({
      checkRunId: 51725241954,
      workflowSha: SHA,
      workflowRepository: 'octo-org/octo-repo',
      workflowFilePath: '.github/workflows/deploy.yml'
    })
  })

  it.each([
    ['an unset input', undefined],
    ['an empty input', ''],
    ['blanks', '  \n '],
    ['text that is not JSON', '${{ toJSON(job) }}'],
    ['truncated JSON', '{"check_run_id": 12'],
    ['JSON null', 'null'],
    ['a JSON list', '[1,2]'],
    ['a JSON number', '42'],
    ['a JSON string', '"job"']
  ])('gives no fields, without throwing, for %s', (_, raw) => {
    expect(parseJobContext(raw)).toEqual({})
  })

  it('accepts a quoted check run id, and drops ids that are not positive whole numbers', () => {
    expect(parseJobContext('{"check_run_id":" 123 "}').checkRunId).toBe(123)
    for (const bad of [
      '0',
      '-5',
      '1.5',
      '"12a"',
      '"abc"',
      'true',
      '9007199254740993',
      '{}'
    ]) {
      expect(
        parseJobContext(`{"check_run_id":${bad}}`).checkRunId
      ).toBeUndefined()
    }
  })

  it('drops workflow fields of the wrong shape, since they end up in API paths', () => {
    const parsed = parseJobContext(
      JSON.stringify({
        workflow_sha: 'main',
        workflow_repository: 'octo-org/octo-repo/../../other',
        workflow_file_path: '../../etc/passwd',
        workflow_ref: 42,
        status: ['success']
      })
    )
    expect(parsed).toEqual({})
    for (const path of ['/abs.yml', 'a//b.yml', './x.yml', 'a\\b.yml', '  ']) {
      expect(
        parseJobContext(JSON.stringify({ workflow_file_path: path }))
          .workflowFilePath
      ).toBeUndefined()
    }
    // `.` and `..` are not repository names: they would walk up the API path.
    for (const repository of ['octo-org/..', 'octo-org/.']) {
      expect(
        parseJobContext(JSON.stringify({ workflow_repository: repository }))
          .workflowRepository
      ).toBeUndefined()
    }
    // SHA-256 repositories have 64-hex commits.
    expect(
      parseJobContext(JSON.stringify({ workflow_sha: 'a'.repeat(64) }))
        .workflowSha
    ).toBe('a'.repeat(64))
  })
})
