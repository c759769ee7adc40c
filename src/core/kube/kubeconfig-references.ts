import * as path from 'node:path'
import { InputError } from '../errors.js'

// What a bootstrap kubeconfig points at outside itself (files, commands,
// URLs with credentials), checked before client-node reads or runs any of it.
// Messages name an entry by its position and a field by its key, never by a
// value: a kubeconfig is a secret, and the runner masks only whole values.

/** A path or command a kubeconfig entry names, and how to avoid naming it. */
interface Reference {
  entry: string
  field: string
  value: string
  /** True for a command to run (a bare name is looked up on PATH). */
  command: boolean
  /** Resolved by client-node against the working directory, not the file's. */
  fromWorkingDirectory: boolean
  fix: string
}

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function entries(
  doc: Record<string, unknown>,
  list: string,
  inner: string
): { entry: string; body: Record<string, unknown> }[] {
  const items = Array.isArray(doc[list]) ? (doc[list] as unknown[]) : []
  return items.map((item, index) => ({
    entry: `entry ${list}[${index}]`,
    body: record(record(item)[inner])
  }))
}

/** Every file and command the raw kubeconfig names, whichever context uses it. */
function references(raw: unknown): Reference[] {
  const doc = record(raw)
  const found: Reference[] = []
  const add = (
    entry: string,
    field: string,
    value: unknown,
    fix: string,
    options: { command?: boolean; fromWorkingDirectory?: boolean } = {}
  ): void => {
    if (typeof value !== 'string' || value === '') return
    found.push({
      entry,
      field,
      value,
      fix,
      command: options.command ?? false,
      fromWorkingDirectory: options.fromWorkingDirectory ?? false
    })
  }
  for (const { entry, body } of entries(doc, 'clusters', 'cluster')) {
    add(
      entry,
      'certificate-authority',
      body['certificate-authority'],
      'embed certificate-authority-data instead'
    )
  }
  for (const { entry, body } of entries(doc, 'users', 'user')) {
    add(
      entry,
      'client-certificate',
      body['client-certificate'],
      'embed client-certificate-data instead'
    )
    add(
      entry,
      'client-key',
      body['client-key'],
      'embed client-key-data instead'
    )
    // client-node reads token-file while parsing, from the working directory.
    for (const field of ['token-file', 'tokenFile']) {
      add(entry, field, body[field], 'embed the token as token instead', {
        fromWorkingDirectory: true
      })
    }
    const exec = record(body.exec)
    add(
      entry,
      'exec command',
      exec.command,
      'name the command by an absolute path outside the workspace, or by a bare name found on PATH',
      { command: true, fromWorkingDirectory: true }
    )
    const provider = record(record(body['auth-provider']).config)
    add(
      entry,
      'auth-provider cmd-path',
      provider['cmd-path'],
      'use an absolute path outside the workspace',
      { command: true, fromWorkingDirectory: true }
    )
    add(
      entry,
      'auth-provider tokenFile',
      provider.tokenFile,
      'use an absolute path outside the workspace',
      { fromWorkingDirectory: true }
    )
    add(
      entry,
      'auth-provider idp-certificate-authority',
      provider['idp-certificate-authority'],
      'embed idp-certificate-authority-data instead',
      { fromWorkingDirectory: true }
    )
  }
  return found
}

function isInside(parent: string, file: string): boolean {
  const relative = path.relative(parent, file)
  return (
    relative === '' ||
    (!relative.startsWith('..') && !path.isAbsolute(relative))
  )
}

/**
 * Refuse file and command references that would resolve against the
 * checked-out workspace: for the `kubeconfig` input (a repository secret,
 * while the workspace is whatever the pull request put there) any relative
 * path or a path inside GITHUB_WORKSPACE; for kubeconfig files only the
 * relative references client-node resolves against the working directory
 * rather than the file's own directory as kubectl does.
 */
export function checkReferences(
  raw: unknown,
  source: 'input' | 'files',
  where: string,
  workspace: string | undefined
): void {
  for (const ref of references(raw)) {
    const bareCommand = ref.command && !/[\\/]/.test(ref.value)
    if (bareCommand) continue
    const relative = !path.isAbsolute(ref.value)
    const what = ref.command
      ? `runs its ${ref.field}`
      : `names its ${ref.field}`
    if (source === 'input') {
      if (relative) {
        throw new InputError(
          `The ${ref.entry} in ${where} ${what} by a relative path, which would ` +
            `resolve against the checked-out workspace that a pull request can ` +
            `change: ${ref.fix}.`
        )
      }
      if (workspace && isInside(workspace, ref.value)) {
        throw new InputError(
          `The ${ref.entry} in ${where} ${what} inside the checked-out ` +
            `workspace (GITHUB_WORKSPACE), which a pull request can change: ` +
            `${ref.fix}.`
        )
      }
    } else if (relative && ref.fromWorkingDirectory) {
      throw new InputError(
        `The ${ref.entry} in ${where} ${what} by a relative path, which this ` +
          `action's Kubernetes client would resolve against the working ` +
          `directory (the checked-out workspace), not the kubeconfig's own ` +
          `directory as kubectl does: use an absolute path.`
      )
    }
  }
}

/** A URL with a user name or password in it (`http://user:pass@proxy`). */
export function userinfoOf(
  url: string
): { user: string; password: string } | undefined {
  try {
    const parsed = new URL(url)
    if (parsed.username === '' && parsed.password === '') return undefined
    return {
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password)
    }
  } catch {
    const match = /^[^/]*\/\/([^/@]*)@/.exec(url)
    // Unparsable, yet userinfo-shaped: treat all of it as the password.
    return match ? { user: '', password: match[1] ?? '' } : undefined
  }
}
