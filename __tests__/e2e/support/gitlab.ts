import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { KUBECTL, REPO } from './cluster.ts'

/** gitlab-ci-local, installed by .ci/run (pinned) into .cache. */
export const GITLAB_CI_LOCAL = path.join(
  REPO,
  '.cache',
  'gitlab-ci-local',
  'node_modules',
  'gitlab-ci-local',
  'dist',
  'index.js'
)

export interface JobRun {
  code: number | null
  /** Everything gitlab-ci-local printed: the job log. */
  log: string
}

/**
 * A throwaway project holding `pipeline` as its .gitlab-ci.yml (a git
 * repository, as gitlab-ci-local wants), and a bin directory with the CLI
 * (dist/cli.js on this Node), kubectl and node first on PATH.
 */
export function gitlabProject(pipeline: string): {
  dir: string
  bin: string
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-gitlab-'))
  const project = path.join(dir, 'project')
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(project)
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(project, '.gitlab-ci.yml'), pipeline)
  const git = (...args: string[]): void => {
    execFileSync(
      'git',
      ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', ...args],
      { cwd: project, stdio: 'ignore' }
    )
  }
  git('init', '-q', '-b', 'main')
  git('add', '.')
  git('commit', '-q', '-m', 'pipeline')
  fs.writeFileSync(
    path.join(bin, 'ephemeral-scan-token'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, 'dist', 'cli.js'))} "$@"\n`,
    { mode: 0o755 }
  )
  fs.symlinkSync(KUBECTL, path.join(bin, 'kubectl'))
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  return { dir: project, bin }
}

/**
 * Run one job of the project with gitlab-ci-local's shell executor in an
 * isolated copy (--shell-isolation: the script and after_script each in a
 * new shell, after_script also after a failed script), with `variables`
 * given as --variable.
 */
export function runJob(
  project: { dir: string; bin: string },
  job: string,
  variables: Record<string, string>
): Promise<JobRun> {
  const args = [
    GITLAB_CI_LOCAL,
    // It runs in the project directory, as gitlab-ci-local wants it.
    '--shell-isolation',
    '--no-color',
    ...Object.entries(variables).flatMap(([k, v]) => [
      '--variable',
      `${k}=${v}`
    ]),
    job
  ]
  const child = spawn(process.execPath, args, {
    cwd: project.dir,
    env: {
      PATH: `${project.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: path.dirname(project.dir)
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
  return new Promise((resolve) => {
    child.on('close', (code) => {
      resolve({ code, log })
    })
  })
}
