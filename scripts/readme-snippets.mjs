// The README's YAML snippets as the workflows a user gets by copying them.
// One module for both checks: the workflow linters (scripts/workflow-lint.mjs
// runs actionlint and zizmor over them) and the unit test that loads each
// with GitHub's own parser (__tests__/unit/readme-snippets.test.ts).
//
// A snippet is one ```yaml fenced block. Its shape decides how it becomes a
// workflow, with as little wrapped around it as it needs and nothing that
// would hide a mistake in it (a `jobs:` snippet gets an `on:` only, never a
// `runs-on:` or `permissions:`):
//
//   workflow    `on:` and `jobs:`          as it is
//   jobs        `jobs:`, no `on:`          `on: push` added before it
//   job         a job's body (`steps:`)    under `jobs: snippet:`
//   steps       a list of steps            under a job with runs-on, in a
//                                          workflow with `permissions: {}`
//   job-keys    keys a job takes (`permissions:`, `if:`, ...) and no more
//               the same, the keys in the job beside runs-on and one step
//   kubernetes  `apiVersion:` and `kind:`  not a workflow: not checked here
//   other       anything else              an error: teach this module the shape
//
// Positions in the wrapped text map back to the Markdown file (README.md,
// docs/*.md: documents()) with toSource().
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as yaml from 'js-yaml'

export const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..'
)
export const README = path.join(ROOT, 'README.md')

/**
 * The Markdown files users copy YAML from: README.md, then docs/*.md (where
 * the README's longer sections moved), as absolute paths.
 */
export function documents() {
  const docs = path.join(ROOT, 'docs')
  return [
    README,
    ...fs
      .readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => path.join(docs, f))
  ]
}

/** The keys a job takes besides runs-on, steps and uses (a fragment of a job). */
const JOB_KEYS = new Set([
  'name',
  'needs',
  'permissions',
  'if',
  'environment',
  'concurrency',
  'outputs',
  'env',
  'defaults',
  'timeout-minutes',
  'strategy',
  'continue-on-error',
  'container',
  'services'
])

/**
 * Every ```yaml (or ```yml) fenced block of a Markdown text: its text and the
 * 1-based line of its first line in the file.
 */
export function yamlBlocks(markdown) {
  const lines = markdown.split('\n')
  const blocks = []
  let open = null
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (open === null) {
      const fence = /^(\s*)```\s*(yaml|yml)\s*$/.exec(line)
      if (fence) open = { line: i + 2, indent: fence[1].length, body: [] }
      else if (/^\s*```/.test(line)) open = { skip: true, body: [] }
    } else if (/^\s*```\s*$/.test(line)) {
      if (!open.skip)
        blocks.push({
          line: open.line,
          // An indented fence (in a list) indents its content the same.
          text: open.body.map((l) => l.slice(open.indent)).join('\n') + '\n'
        })
      open = null
    } else open.body.push(line)
  }
  return blocks
}

const isMapping = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** The shape of one snippet's parsed YAML (see the table above). */
export function classify(doc) {
  if (Array.isArray(doc))
    return doc.length > 0 &&
      doc.every((s) => isMapping(s) && ('uses' in s || 'run' in s))
      ? 'steps'
      : 'other'
  if (!isMapping(doc)) return 'other'
  if ('apiVersion' in doc && 'kind' in doc) return 'kubernetes'
  if ('jobs' in doc) return 'on' in doc ? 'workflow' : 'jobs'
  if ('steps' in doc || 'uses' in doc || 'runs-on' in doc) return 'job'
  const keys = Object.keys(doc)
  if (keys.length > 0 && keys.every((k) => JOB_KEYS.has(k))) return 'job-keys'
  return 'other'
}

const indentBy = (text, n) =>
  text
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : ' '.repeat(n) + l))
    .join('\n')

/** What goes around a snippet of each kind: lines before it, its indent, lines after. */
const WRAPS = {
  workflow: { before: '', indent: 0, after: '' },
  jobs: { before: 'on: push\n', indent: 0, after: '' },
  job: { before: 'on: push\njobs:\n  snippet:\n', indent: 4, after: '' },
  steps: {
    before:
      'on: push\npermissions: {}\njobs:\n  snippet:\n    runs-on: ubuntu-latest\n    steps:\n',
    indent: 6,
    after: ''
  },
  'job-keys': {
    before: 'on: push\npermissions: {}\njobs:\n  snippet:\n',
    indent: 4,
    after: '    runs-on: ubuntu-latest\n    steps:\n      - run: echo snippet\n'
  }
}

/**
 * The YAML snippets of a Markdown file (default README.md), each with its
 * kind and, when it is workflow-shaped, the workflow it stands for:
 * { source, line, text, kind, error?, name?, workflow?, prefixLines?, indent? }.
 * `source` is the file relative to the repository root; `name` a file name
 * for the workflow (readme-L<line>.yml).
 */
export function snippets(file = README) {
  return snippetsOf(
    fs.readFileSync(file, 'utf8'),
    path.relative(ROOT, file) || file
  )
}

/** snippets() of a Markdown text, as if read from `source` (a path). */
export function snippetsOf(markdown, source) {
  const base = path.basename(source, path.extname(source)).toLowerCase()
  return yamlBlocks(markdown).map((block) => {
    let docs
    try {
      docs = yaml.loadAll(block.text)
    } catch (error) {
      return {
        source,
        line: block.line,
        text: block.text,
        kind: 'invalid',
        error: error instanceof Error ? error.message : String(error)
      }
    }
    // Several documents (---) are Kubernetes manifests or nothing we know.
    const kinds = docs.map(classify)
    const kind =
      kinds.length === 1
        ? kinds[0]
        : kinds.length > 1 && kinds.every((k) => k === 'kubernetes')
          ? 'kubernetes'
          : 'other'
    const wrap = WRAPS[kind]
    if (!wrap) return { source, line: block.line, text: block.text, kind }
    return {
      source,
      line: block.line,
      text: block.text,
      kind,
      name: `${base}-L${block.line}.yml`,
      workflow: wrap.before + indentBy(block.text, wrap.indent) + wrap.after,
      prefixLines: wrap.before.split('\n').length - 1,
      indent: wrap.indent
    }
  })
}

/**
 * Where a message about a snippet's workflow points, in its Markdown file:
 * every "(Line: N, Col: M)" (GitHub's parser) becomes "README.md:L:C".
 */
export function locate(snippet, message) {
  return message.replace(/^.*?\(Line: (\d+), Col: (\d+)\): /, (_, l, c) => {
    const at = toSource(snippet, Number(l), Number(c))
    return `${snippet.source}:${at.line}:${at.column}: `
  })
}

/**
 * A 1-based line and column in a snippet's wrapped workflow, as a position
 * in its Markdown file; a position in the wrapper maps to the snippet's first
 * line.
 */
export function toSource(snippet, line, column = 1) {
  const inSnippet = line - snippet.prefixLines
  if (inSnippet < 1 || inSnippet > snippet.text.split('\n').length - 1)
    return { line: snippet.line, column: 1 }
  return {
    line: snippet.line + inSnippet - 1,
    column: Math.max(1, column - snippet.indent)
  }
}
