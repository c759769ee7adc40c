import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import GithubSlugger from 'github-slugger'

// The Markdown files link to each other and to headings in each other. A
// section that moves (README → docs/, docs/ → CONTRIBUTING.md) leaves links
// behind that GitHub renders as dead; this test finds every relative link
// and every #anchor and fails on one that does not resolve.
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const SKIP = new Set(['node_modules', 'dist', '.git', '.cache', '.cluster'])

/** Every .md file of the repository, relative to its root. */
function markdownFiles(dir = ROOT): string[] {
  const found: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) found.push(...markdownFiles(full))
    else if (entry.name.endsWith('.md')) found.push(path.relative(ROOT, full))
  }
  return found.sort()
}

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  const lines: string[] = []
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced
      lines.push('')
      continue
    }
    lines.push(fenced ? '' : line.replace(/`[^`\n]*`/g, '``'))
  }
  return lines.join('\n')
}

/** The anchors GitHub gives a file's headings (github-slugger, as GitHub does). */
function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger()
  const found = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    const heading = fenced
      ? undefined
      : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading !== undefined)
      // GitHub slugs the rendered text: code spans lose their backticks,
      // links keep their text.
      found.add(
        slugger.slug(
          heading.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        )
      )
  }
  return found
}

/** Every inline link and image target of a Markdown text, with its line. */
function links(markdown: string): { line: number; target: string }[] {
  const found: { line: number; target: string }[] = []
  prose(markdown)
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g))
        found.push({ line: i + 1, target: m[1]! })
    })
  return found
}

/**
 * The broken relative links of one Markdown file, as `file:line: target
 * (why)`. `read` gives a repository file's text, or undefined when there is
 * no such file (a directory gives '').
 */
function brokenLinks(
  file: string,
  markdown: string,
  read: (relative: string) => string | undefined
): string[] {
  const broken: string[] = []
  for (const { line, target } of links(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:, …
    const [rawPath = '', anchor] = target.split('#', 2)
    const relative =
      rawPath === ''
        ? file
        : path.posix.normalize(
            path.posix.join(path.posix.dirname(file), decodeURI(rawPath))
          )
    const where = `${file}:${line}: ${target}`
    if (relative.startsWith('..')) {
      broken.push(`${where} (outside the repository)`)
      continue
    }
    const text = rawPath === '' ? markdown : read(relative)
    if (text === undefined) broken.push(`${where} (no such file)`)
    else if (anchor !== undefined && anchor !== '') {
      if (!relative.endsWith('.md'))
        broken.push(`${where} (an anchor into a file that is not Markdown)`)
      else if (!anchors(text).has(anchor))
        broken.push(`${where} (no heading with that anchor)`)
    }
  }
  return broken
}

const readRepo = (relative: string): string | undefined => {
  const full = path.join(ROOT, relative)
  if (!fs.existsSync(full)) return undefined
  return fs.statSync(full).isDirectory() ? '' : fs.readFileSync(full, 'utf8')
}

describe('relative links in the Markdown files', () => {
  const files = markdownFiles()

  it('finds the documents users and maintainers read', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'CONTRIBUTING.md',
        'SECURITY.md',
        'docs/architecture.md',
        'docs/oidc.md',
        'examples/README.md',
        'src/core/README.md'
      ])
    )
  })

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    expect(brokenLinks(file, readRepo(file)!, readRepo)).toEqual([])
  })
})

describe('the link check itself', () => {
  const repo: Record<string, string> = {
    'README.md': [
      '# Tool',
      '## Bootstrap with the job’s `GitHub` OIDC token',
      '## Inputs',
      '## Inputs',
      'see [inputs](#inputs-1) and [docs](docs/a.md#the-api-server-trust-it)'
    ].join('\n'),
    'docs/a.md': '# A\n### The API server: trust it\n',
    'examples/cluster': ''
  }
  const read = (relative: string): string | undefined => repo[relative]
  const check = (markdown: string): string[] =>
    brokenLinks('docs/b.md', markdown, read)

  it('accepts links to files, folders and headings as GitHub slugs them', () => {
    expect(
      check(
        [
          '[r](../README.md#bootstrap-with-the-jobs-github-oidc-token)',
          '[r](../README.md#inputs-1) [a](a.md) [self](#b) [c](../examples/cluster)',
          '[web](https://example.com/x.md#nowhere) <mail:x>',
          '# B'
        ].join('\n')
      )
    ).toEqual([])
    expect(brokenLinks('README.md', repo['README.md']!, read)).toEqual([])
  })

  it('reports a missing file, a missing anchor and a link out of the repository', () => {
    expect(
      check(
        [
          'text',
          '[gone](gone.md) and [moved](../README.md#rbac)',
          '[out](../../etc/passwd) [own](#nothing-here)'
        ].join('\n')
      )
    ).toEqual([
      'docs/b.md:2: gone.md (no such file)',
      'docs/b.md:2: ../README.md#rbac (no heading with that anchor)',
      'docs/b.md:3: ../../etc/passwd (outside the repository)',
      'docs/b.md:3: #nothing-here (no heading with that anchor)'
    ])
  })

  it('ignores links inside code blocks and code spans', () => {
    expect(
      check('```md\n[gone](gone.md)\n```\n`[gone](gone.md)` text\n')
    ).toEqual([])
  })
})
