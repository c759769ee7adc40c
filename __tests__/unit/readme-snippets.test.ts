import { describe, expect, it } from '@jest/globals'
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow
} from '@actions/workflow-parser'
import {
  documents,
  README,
  snippets,
  snippetsOf,
  locate,
  type Snippet
} from '../../scripts/readme-snippets.mjs'

// Users copy the YAML of the README and of docs/*.md. Every snippet that is a
// workflow or a part of
// one (jobs, a job, steps, job keys) must load with GitHub's own workflow
// parser as the workflow it stands for; scripts/readme-snippets.mjs decides
// the shape and the wrapping, and scripts/workflow-lint.mjs runs actionlint
// and zizmor over the same workflows.

/** GitHub's parser's errors for one snippet, each as README.md:line:col: message. */
async function loadErrors(snippet: Snippet): Promise<string[]> {
  const parsed = parseWorkflow(
    { name: snippet.name!, content: snippet.workflow! },
    new NoOperationTraceWriter()
  )
  const errors = parsed.context.errors.getErrors().map((e) => e.message)
  if (parsed.value !== undefined) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value)
    for (const e of template.errors ?? [])
      if (!errors.includes(e.Message)) errors.push(e.Message)
  }
  return errors.map((message) => locate(snippet, message))
}

const all = documents().flatMap((file) => snippets(file))
const workflows = all.filter((s) => s.workflow !== undefined)

describe('README.md and docs/*.md YAML snippets', () => {
  it('are each of a known shape (a workflow or part of one, or Kubernetes objects)', () => {
    const unknown = all
      .filter((s) => s.kind === 'invalid' || s.kind === 'other')
      .map((s) => `${s.source}:${s.line}: ${s.kind} ${s.error ?? ''}`)
    expect(unknown).toEqual([])
    const inReadme = snippets(README)
    // Both quick starts, the permission block, the step examples, the `if:`
    // and the caller at least; the reusable job moved to docs/lifetime.md.
    expect(
      inReadme.filter((s) => s.workflow !== undefined).length
    ).toBeGreaterThanOrEqual(7)
    expect(
      inReadme.filter((s) => s.kind === 'kubernetes').length
    ).toBeGreaterThan(0)
    // docs/ is read too: the reusable job and the container-action step.
    const kindsIn = (file: string): string[] =>
      workflows.filter((s) => s.source === file).map((s) => s.kind)
    expect(kindsIn('docs/lifetime.md')).toContain('workflow')
    expect(kindsIn('docs/container-jobs.md')).toContain('steps')
    expect(workflows.length).toBeGreaterThanOrEqual(9)
  })

  it.each(workflows.map((s) => [`${s.source}:${s.line} (${s.kind})`, s]))(
    '%s loads with GitHub’s workflow parser',
    async (_, snippet) => {
      expect(await loadErrors(snippet as Snippet)).toEqual([])
    }
  )
})

describe('the snippet extraction', () => {
  const markdown = [
    '# Doc', // 1
    '', // 2
    '```yaml', // 3
    'jobs:', // 4
    '  scan:', // 5
    '    timeout-minutes: 5', // 6
    '    steps:', // 7
    '      - run: echo hi', // 8
    '```', // 9
    '', // 10
    '```yaml', // 11
    '- uses: actions/checkout@v4', // 12
    '  with:', // 13
    '    persist-credentials: false', // 14
    '  bogus: 1', // 15
    '```', // 16
    '```sh', // 17
    'jobs: not yaml here', // 18
    '```', // 19
    '```yaml', // 20
    'permissions:', // 21
    '  contents: read', // 22
    '```', // 23
    '```yaml', // 24
    'apiVersion: v1', // 25
    'kind: Namespace', // 26
    '```', // 27
    '```yaml', // 28
    'color: blue', // 29
    '```' // 30
  ].join('\n')
  const found = snippetsOf(markdown, 'DOC.md')

  it('finds the yaml blocks only, with their first line and shape', () => {
    expect(found.map((s) => [s.line, s.kind])).toEqual([
      [4, 'jobs'],
      [12, 'steps'],
      [21, 'job-keys'],
      [25, 'kubernetes'],
      [29, 'other']
    ])
  })

  it('adds no runs-on to a jobs snippet, so one without it fails at its line in the file', async () => {
    expect(await loadErrors(found[0]!)).toEqual([
      // GitHub's parser points at the job's first key.
      'DOC.md:6:5: Required property is missing: runs-on'
    ])
  })

  it('maps errors inside wrapped steps back to the file’s line and column', async () => {
    expect(await loadErrors(found[1]!)).toEqual([
      "DOC.md:15:3: Unexpected value 'bogus'"
    ])
  })

  it('loads a fragment of job keys inside a job', async () => {
    expect(await loadErrors(found[2]!)).toEqual([])
  })
})
