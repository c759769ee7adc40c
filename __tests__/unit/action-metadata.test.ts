import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as yaml from 'js-yaml'

// What the Marketplace's "Publish this Action" form checks in action.yml,
// so a release is not blocked at the last step. Sources: GitHub Docs,
// "Metadata syntax reference" (branding.color values, omitted icons) and
// "Publishing actions in GitHub Marketplace"; the 125-character limit is the
// form's own message ("Description must be less than 125 characters").
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const action = yaml.load(
  fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
) as {
  name?: unknown
  description?: unknown
  author?: unknown
  branding?: { icon?: unknown; color?: unknown }
}

const COLORS = [
  'white',
  'black',
  'yellow',
  'blue',
  'green',
  'orange',
  'red',
  'purple',
  'gray-dark'
]
/** Feather icons the Marketplace leaves out (brand icons are out too). */
const OMITTED_ICONS = [
  'coffee',
  'columns',
  'divide-circle',
  'divide-square',
  'divide',
  'frown',
  'hexagon',
  'key',
  'meh',
  'mouse-pointer',
  'smile',
  'tool',
  'x-octagon'
]

describe('action.yml for the Marketplace', () => {
  it('has a name, an author and a one-line description under 125 characters', () => {
    expect(action.name).toBe('ephemeral-scan-token')
    expect(typeof action.author).toBe('string')
    expect(action.author).not.toBe('')
    const description = String(action.description)
    expect(description.length).toBeGreaterThan(20)
    expect(description.length).toBeLessThan(125)
    expect(description).not.toContain('\n')
  })

  it('has branding with an allowed colour and a Feather icon the Marketplace shows', () => {
    expect(COLORS).toContain(action.branding?.color)
    const icon = String(action.branding?.icon)
    expect(icon).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/)
    expect(OMITTED_ICONS).not.toContain(icon)
  })
})
