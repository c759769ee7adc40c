import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  GITHUB_RUN_ENV,
  parseFileCommands
} from '../../../__fixtures__/runner-files.ts'

/** What one step printed and wrote, as the runner would see it. */
export interface StepResult {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  env: Record<string, string>
  summary: string
  /** Every byte the step produced, for leak scans. */
  everything: string
}

const REPO = path.resolve(import.meta.dirname, '..', '..', '..')

/**
 * A stand-in for the Actions runner: runs the bundled dist/main.js as main
 * and dist/post.js as post (action.yml's runs.main and runs.post) with INPUT_* variables, per-step GITHUB_OUTPUT/STATE/ENV files,
 * a private RUNNER_TEMP, and hands main's state to post as STATE_* the way
 * the runner does.
 */
export class FakeRunner {
  readonly root: string
  readonly temp: string
  readonly home: string
  /** The job's environment; GITHUB_ENV writes land here. */
  readonly jobEnv: Record<string, string>
  private savedState: Record<string, string> = {}
  private step = 0
  /** The inputs main ran with; post gets the same ones, as on a runner. */
  mainInputs: Record<string, string> | undefined
  private postRan = false

  constructor(jobEnv: Record<string, string> = {}) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'est-runner-'))
    this.temp = path.join(this.root, 'temp')
    this.home = path.join(this.root, 'home')
    fs.mkdirSync(this.temp, { mode: 0o700 })
    fs.mkdirSync(this.home, { mode: 0o700 })
    this.jobEnv = { ...jobEnv }
  }

  async main(
    inputs: Record<string, string>,
    extraEnv: Record<string, string> = {}
  ): Promise<StepResult> {
    const result = await this.run('main', inputs, extraEnv, {})
    this.savedState = result.state
    this.mainInputs = inputs
    return result
  }

  async post(
    inputs: Record<string, string>,
    extraEnv: Record<string, string> = {}
  ): Promise<StepResult> {
    this.postRan = true
    const stateEnv: Record<string, string> = {}
    for (const [key, value] of Object.entries(this.savedState)) {
      stateEnv[`STATE_${key}`] = value
    }
    return this.run('post', inputs, extraEnv, stateEnv)
  }

  /** Run post if the test did not, as the runner always would, so tests leave nothing behind. */
  async finish(): Promise<void> {
    if (this.mainInputs && !this.postRan) await this.post(this.mainInputs)
    this.cleanup()
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true })
  }

  private async run(
    entry: 'main' | 'post',
    inputs: Record<string, string>,
    extraEnv: Record<string, string>,
    stateEnv: Record<string, string>
  ): Promise<StepResult> {
    const n = ++this.step
    const files = {
      GITHUB_OUTPUT: path.join(this.root, `${entry}-output-${n}`),
      GITHUB_STATE: path.join(this.root, `${entry}-state-${n}`),
      GITHUB_ENV: path.join(this.root, `${entry}-env-${n}`),
      GITHUB_STEP_SUMMARY: path.join(this.root, `${entry}-summary-${n}`)
    }
    for (const file of Object.values(files)) fs.writeFileSync(file, '')
    const inputEnv: Record<string, string> = {}
    for (const [name, value] of Object.entries(inputs)) {
      inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      RUNNER_TEMP: this.temp,
      ...GITHUB_RUN_ENV,
      ...this.jobEnv,
      ...files,
      ...inputEnv,
      ...stateEnv,
      ...extraEnv
    }
    const child = spawn(
      process.execPath,
      // The runner starts the file action.yml names for the stage.
      [path.join(REPO, 'dist', `${entry}.js`)],
      {
        env,
        cwd: this.root,
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (exit) => {
        resolve(exit)
      })
    )
    const raw = Object.fromEntries(
      Object.entries(files).map(([key, file]) => [
        key,
        fs.readFileSync(file, 'utf8')
      ])
    )
    const envWrites = parseFileCommands(raw.GITHUB_ENV ?? '')
    Object.assign(this.jobEnv, envWrites)
    return {
      code,
      stdout,
      stderr,
      outputs: parseFileCommands(raw.GITHUB_OUTPUT ?? ''),
      state: parseFileCommands(raw.GITHUB_STATE ?? ''),
      env: envWrites,
      summary: raw.GITHUB_STEP_SUMMARY ?? '',
      everything: [stdout, stderr, ...Object.values(raw)].join('\n')
    }
  }
}

/**
 * Every place `secret` occurs in `text` outside its own add-mask command.
 * The runner learns the mask from that line, so it is the one allowed place.
 */
export function leaksOf(secret: string, text: string): string[] {
  const found: string[] = []
  for (const line of text.split('\n')) {
    if (line === `::add-mask::${secret}`) continue
    if (line.includes(secret)) found.push(line.replace(secret, '<TOKEN>'))
    const b64 = Buffer.from(secret).toString('base64')
    if (line.includes(b64)) found.push('(base64 of the secret)')
  }
  return found
}

/** Every value a step registered with ::add-mask:: (the credentials it saw). */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length))
}
