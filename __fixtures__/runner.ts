import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { jest } from '@jest/globals'
import {
  GITHUB_RUN_ENV,
  parseFileCommandEntries,
  parseFileCommands
} from './runner-files.ts'
export { parseFileCommandEntries } from './runner-files.ts'

/** The file commands @actions/core writes to when these variables are set. */
const FILE_VARIABLES = [
  'GITHUB_OUTPUT',
  'GITHUB_STATE',
  'GITHUB_ENV',
  'GITHUB_STEP_SUMMARY'
] as const
export type FileVariable = (typeof FILE_VARIABLES)[number]

/** Variables a real runner (or the developer's shell) may carry that would change what the action does. */
const INTERFERING =
  /^(INPUT_|STATE_|GITHUB_|RUNNER_|ACTIONS_)|^(KUBECONFIG|KUBERNETES_SERVICE_HOST)$/

/**
 * A stand-in for the Actions runner around an in-process run(): private
 * RUNNER_TEMP and HOME, per-step GITHUB_* files for the real @actions/core,
 * INPUT_* variables, and every byte written to stdout and stderr.
 */
export class TestRunner {
  readonly root: string
  readonly temp: string
  readonly home: string
  files!: Record<FileVariable, string>
  stdout: string[] = []
  stderr: string[] = []
  private readonly savedEnv: NodeJS.ProcessEnv
  private readonly savedUmask: number
  private step = 0
  private spies: { mockRestore(): void }[] = []

  constructor() {
    this.savedEnv = { ...process.env }
    this.savedUmask = process.umask(0o022)
    process.umask(this.savedUmask)
    for (const key of Object.keys(process.env)) {
      if (INTERFERING.test(key)) Reflect.deleteProperty(process.env, key)
    }
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'est-unit-'))
    this.temp = path.join(this.root, 'temp')
    this.home = path.join(this.root, 'home')
    fs.mkdirSync(this.temp, { mode: 0o700 })
    fs.mkdirSync(this.home, { mode: 0o700 })
    Object.assign(process.env, {
      HOME: this.home,
      RUNNER_TEMP: this.temp,
      ...GITHUB_RUN_ENV
    })
    this.newStep()
    this.capture()
  }

  /** Fresh GITHUB_* files, as the runner gives each step (main, then post). */
  newStep(): void {
    const n = ++this.step
    const files = {} as Record<FileVariable, string>
    for (const name of FILE_VARIABLES) {
      const file = path.join(this.root, `${name.toLowerCase()}-${n}`)
      fs.writeFileSync(file, '')
      files[name] = file
      process.env[name] = file
    }
    this.files = files
    // The toolkit caches the summary file's path for the life of the process;
    // a real runner starts a new process per step.
    Reflect.set(core.summary, '_filePath', undefined)
    core.summary.emptyBuffer()
  }

  /** Set inputs the way the runner does: INPUT_<NAME> with spaces as '_', hyphens kept. */
  setInputs(inputs: Record<string, string>): void {
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('INPUT_')) Reflect.deleteProperty(process.env, key)
    }
    for (const [name, value] of Object.entries(inputs)) {
      process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    }
  }

  read(name: FileVariable): string {
    return fs.readFileSync(this.files[name], 'utf8')
  }

  outputs(): Record<string, string> {
    return parseFileCommands(this.read('GITHUB_OUTPUT'))
  }

  env(): Record<string, string> {
    return parseFileCommands(this.read('GITHUB_ENV'))
  }

  /** Every value saved under `name`, in order. */
  stateHistory(name = 'run'): string[] {
    return parseFileCommandEntries(this.read('GITHUB_STATE'))
      .filter((entry) => entry.name === name)
      .map((entry) => entry.value)
  }

  /** What post would receive: the last saved value of each state key. */
  state(): Record<string, string> {
    return parseFileCommands(this.read('GITHUB_STATE'))
  }

  /** Hand main's saved state to the next step as STATE_* variables, as the runner does. */
  passStateToNextStep(): void {
    const state = this.state()
    this.newStep()
    for (const [name, value] of Object.entries(state)) {
      process.env[`STATE_${name}`] = value
    }
  }

  get out(): string {
    return this.stdout.join('')
  }

  get err(): string {
    return this.stderr.join('')
  }

  /** Lines written to stdout, without the trailing empty one. */
  lines(): string[] {
    return this.out.split('\n').filter((line) => line !== '')
  }

  /** Lines of a workflow command (`::warning::`, `::error::`, `::add-mask::`). */
  commands(name: string): string[] {
    return this.lines().filter((line) => line.startsWith(`::${name}::`))
  }

  /** Every byte the steps printed and every file command they wrote. */
  everything(): string {
    const files = fs
      .readdirSync(this.root)
      .filter((name) => /^github_/.test(name))
      .map((name) => fs.readFileSync(path.join(this.root, name), 'utf8'))
    return [this.out, this.err, ...files].join('\n')
  }

  /** Directories main created under RUNNER_TEMP. */
  kubeconfigDirs(): string[] {
    return fs
      .readdirSync(this.temp)
      .filter((name) => name.startsWith('ephemeral-scan-token-'))
  }

  private capture(): void {
    const keep =
      (sink: string[]) =>
      (chunk: string | Uint8Array): boolean => {
        sink.push(
          typeof chunk === 'string'
            ? chunk
            : Buffer.from(chunk).toString('utf8')
        )
        return true
      }
    this.spies.push(
      jest.spyOn(process.stdout, 'write').mockImplementation(keep(this.stdout)),
      jest.spyOn(process.stderr, 'write').mockImplementation(keep(this.stderr))
    )
  }

  /** Undo everything: spies, environment, exit code, umask, temp files. */
  restore(): void {
    for (const spy of this.spies) spy.mockRestore()
    this.spies = []
    for (const key of Object.keys(process.env)) {
      if (!(key in this.savedEnv)) Reflect.deleteProperty(process.env, key)
    }
    Object.assign(process.env, this.savedEnv)
    process.exitCode = undefined
    process.umask(this.savedUmask)
    fs.rmSync(this.root, { recursive: true, force: true })
  }
}
