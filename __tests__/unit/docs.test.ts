import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as yaml from 'js-yaml'

// The README is the user's contract: every input and output of action.yml
// must be documented there, with the same default.
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const action = yaml.load(
  fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
) as {
  inputs: Record<string, { default?: string; required?: boolean }>
  outputs: Record<string, unknown>
  runs: Record<string, string>
}
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

/** Rows of the markdown table under a `## heading`: first cell -> second cell. */
function table(heading: string): Map<string, string> {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
  const rows = new Map<string, string>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const name = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1]
    if (name) rows.set(name, cells[2] ?? '')
  }
  return rows
}

describe('README.md against action.yml', () => {
  it('documents every input, and nothing that does not exist', () => {
    expect([...table('Inputs').keys()].sort()).toEqual(
      Object.keys(action.inputs).sort()
    )
  })

  it('gives every input the default action.yml declares', () => {
    const documented = table('Inputs')
    for (const [name, spec] of Object.entries(action.inputs)) {
      const expected = spec.required
        ? '(required)'
        : spec.default === ''
          ? 'empty'
          : `\`${spec.default ?? ''}\``
      expect(`${name}: ${documented.get(name) ?? ''}`).toBe(
        `${name}: ${expected}`
      )
    }
  })

  it('documents every output', () => {
    expect([...table('Outputs').keys()].sort()).toEqual(
      Object.keys(action.outputs).sort()
    )
  })

  it('uses only real inputs in its quick starts, the OIDC one (no stored secret) first', () => {
    const section =
      readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? ''
    // Every workflow block: the `with:` keys of the action's step.
    const blocks = section
      .split('```yaml')
      .slice(1)
      .map((block) => block.split('```')[0] ?? '')
    const withKeys = blocks.map((block) => {
      const withBlock = block.split('with:')[1]?.split('\n      #')[0] ?? ''
      return [...withBlock.matchAll(/^ {10}([a-z-]+):/gm)].map((m) => m[1])
    })
    expect(withKeys.length).toBeGreaterThanOrEqual(2)
    for (const used of withKeys) {
      expect(used.length).toBeGreaterThan(0)
      for (const name of used)
        expect(Object.keys(action.inputs)).toContain(name)
    }
    expect(withKeys[0]).toEqual(
      expect.arrayContaining([
        'oidc-audience',
        'server',
        'certificate-authority-data'
      ])
    )
    expect(withKeys[0]).not.toContain('kubeconfig')
    expect(blocks[0]).toContain('id-token: write')
    expect(withKeys[1]).toContain('kubeconfig')
  })

  it('runs on node24 with a post step that always runs', () => {
    expect(action.runs).toMatchObject({
      using: 'node24',
      main: 'dist/main.js',
      post: 'dist/post.js',
      'post-if': 'always()'
    })
  })
})
