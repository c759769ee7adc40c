import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'

// Every folder under src/ says in a README what lives there and what it may
// import (docs/architecture.md). A README that does not name a file of its
// folder is out of date: the file was added or moved without it.
const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** src/ and every folder under it, relative to the repository root. */
function folders(dir = 'src'): string[] {
  return [
    dir,
    ...fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => folders(path.posix.join(dir, e.name)))
  ]
}

/**
 * What a folder's README does not name: its own .ts files (`name.ts`, not
 * `other/name.ts`) and its subfolders (`name/`), or 'README.md' itself when
 * there is none.
 */
function unnamed(entries: fs.Dirent[], readme: string | undefined): string[] {
  if (readme === undefined) return ['README.md']
  const names = entries.flatMap((e) =>
    e.isDirectory() ? [`${e.name}/`] : e.name.endsWith('.ts') ? [e.name] : []
  )
  const escape = (s: string): string =>
    s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  // A file counts only as itself (`name.ts`, not `sub/name.ts` or
  // `name.tsx`); a folder also as the start of a path (`entry/main.ts`).
  return names.filter(
    (name) =>
      !new RegExp(
        `(^|[^\\w./-])${escape(name)}${name.endsWith('/') ? '' : '(?![\\w-])'}`
      ).test(readme)
  )
}

const readmeOf = (dir: string): string | undefined => {
  const file = path.join(ROOT, dir, 'README.md')
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
}

describe('the folder READMEs under src/', () => {
  const all = folders()

  it('finds the layers', () => {
    expect(all).toEqual(
      expect.arrayContaining([
        'src',
        'src/action',
        'src/action/entry',
        'src/cli',
        'src/core',
        'src/core/kube'
      ])
    )
  })

  it.each(all)(
    '%s has a README that names each of its .ts files and folders, and what it may import',
    (dir) => {
      const readme = readmeOf(dir)
      const entries = fs.readdirSync(path.join(ROOT, dir), {
        withFileTypes: true
      })
      expect(unnamed(entries, readme)).toEqual([])
      // src/ itself states the rule for the three layers instead.
      if (dir !== 'src') expect(readme).toMatch(/\*\*May\s+import:\*\*/)
    }
  )
})

describe('the folder README check itself', () => {
  const dirent = (name: string, dir = false): fs.Dirent =>
    ({ name, isDirectory: () => dir }) as fs.Dirent
  const entries = [
    dirent('main.ts'),
    dirent('retry.ts'),
    dirent('README.md'),
    dirent('entry', true)
  ]

  it('accepts a README that names each file and folder as itself', () => {
    expect(
      unnamed(
        entries,
        '`main.ts` runs; `retry.ts` retries; `entry/post.ts` starts.'
      )
    ).toEqual([])
  })

  it('reports a missing README, and names it only with another path or a longer name', () => {
    expect(unnamed(entries, undefined)).toEqual(['README.md'])
    expect(
      unnamed(entries, '`sub/main.ts` starts; `retry.tsx` and the entry are')
    ).toEqual(['main.ts', 'retry.ts', 'entry/'])
  })
})
