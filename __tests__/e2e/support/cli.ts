import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { REPO } from './cluster.ts'

/** What one CLI run printed. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Every CLI run of a test file, for its leak scan. */
export const printed: CliResult[] = []

/** The machine's own Node (v20 here), which CI images commonly ship. */
export const NODE_20 = '/usr/bin/node'

/**
 * Run the bundled CLI (dist/cli.js, the package's bin) as a CI job would:
 * its own process, only the environment given (plus PATH), stdin closed.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { node?: string; bin?: string[]; cwd?: string } = {}
): Promise<CliResult> {
  const command = options.bin ?? [
    options.node ?? process.execPath,
    path.join(REPO, 'dist', 'cli.js')
  ]
  const [file = '', ...pre] = command
  const child = spawn(file, [...pre, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    cwd: options.cwd ?? REPO,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const result = { code, stdout, stderr }
      printed.push(result)
      resolve(result)
    })
  })
}

/** Every file and directory under `dir`, relative, for "nothing left" checks. */
export function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort()
}

/** Lines of `text` that contain `secret` (or its base64). */
export function linesWith(secret: string, text: string): string[] {
  const b64 = Buffer.from(secret).toString('base64')
  return text
    .split('\n')
    .filter((line) => line.includes(secret) || line.includes(b64))
    .map((line) => line.replace(secret, '<SECRET>'))
}
