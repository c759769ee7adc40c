import type { ChildProcess } from 'node:child_process'
import type { KubeConfig, User } from '@kubernetes/client-node'

/**
 * The bootstrap kubeconfig's credential plugin (its current user's `exec`
 * command or `auth-provider`) failed, so no request was sent. It carries only
 * what is safe to print: which plugin, and its exit code or the code of the
 * error that kept it from starting. Never its command, arguments, output or
 * stderr, which may hold secrets (client-node makes stderr the message of
 * the error it throws).
 */
export class CredentialPluginError extends Error {
  override readonly name = 'CredentialPluginError'

  constructor(
    /** 'exec credential plugin', or "auth-provider 'gcp'". */
    readonly plugin: string,
    /** 'exit code 1', 'ENOENT', …; undefined when the plugin gave none. */
    readonly outcome: string | undefined
  ) {
    super(
      `the kubeconfig user's ${plugin} failed${outcome ? ` (${outcome})` : ''}`
    )
  }
}

/** client-node's auth providers: only these names are printed, anything else is the kubeconfig's own text. */
const PROVIDERS = new Set(['gcp', 'azure', 'oidc', 'exec'])

/** The last exit code of an exec plugin each KubeConfig ran. */
const exits = new WeakMap<KubeConfig, number>()
const watched = new WeakSet()

/**
 * Record the exit code of every exec plugin `kc` runs. client-node's
 * ExecAuth rejects a failed plugin with its stderr alone, so the code is
 * taken from the child process it spawns (its private `execFn`). If a
 * client-node release renames that, the failure is still reported, without
 * the code (and the unit test that expects the code fails).
 */
export function watchPluginExits(kc: KubeConfig): void {
  const list = (kc as unknown as { authenticators?: unknown }).authenticators
  if (!Array.isArray(list)) return
  for (const auth of list as object[]) {
    const hooks = auth as { execFn?: unknown }
    if (typeof hooks.execFn !== 'function' || watched.has(auth)) continue
    watched.add(auth)
    const spawn = hooks.execFn as (...args: unknown[]) => ChildProcess
    hooks.execFn = (...args: unknown[]): ChildProcess => {
      const child = spawn(...args)
      // Registered before ExecAuth's own 'close' listener, so the code is
      // recorded before its rejection is handled.
      child.once('close', (code: number | null) => {
        if (code !== null) exits.set(kc, code)
      })
      return child
    }
  }
}

function pluginOf(user: User | null): string | undefined {
  if (!user) return undefined
  if (user.exec) return 'exec credential plugin'
  const provider = (user.authProvider as { name?: unknown } | undefined)?.name
  if (user.authProvider === undefined) return undefined
  return typeof provider === 'string' && PROVIDERS.has(provider)
    ? `auth-provider '${provider}'`
    : 'auth-provider'
}

/**
 * What to throw for `error`, raised while `kc` was getting its user's
 * credential: a CredentialPluginError when an exec plugin or auth provider
 * produced it, else `error` itself (a certificate or key file that cannot be
 * read, say).
 */
export function credentialFailure(kc: KubeConfig, error: unknown): unknown {
  const plugin = pluginOf(kc.getCurrentUser())
  if (plugin === undefined) return error
  const failed = error as {
    code?: unknown
    syscall?: unknown
    cause?: { status?: unknown }
  } | null
  // A file of the kubeconfig (CA, certificate, key) that cannot be opened.
  if (failed?.syscall === 'open') return error
  let outcome: string | undefined
  if (
    typeof failed?.code === 'string' &&
    typeof failed.syscall === 'string' &&
    failed.syscall.startsWith('spawn')
  ) {
    // It never started: ENOENT (not installed) or EACCES (not executable).
    outcome = failed.code
  } else if (error instanceof SyntaxError) {
    outcome = 'its output is not an ExecCredential'
  } else if (typeof failed?.cause?.status === 'number') {
    // gcp and azure run their command with execSync, whose error has it.
    outcome = `exit code ${String(failed.cause.status)}`
  } else if (plugin.startsWith('exec') && exits.has(kc)) {
    outcome = `exit code ${String(exits.get(kc))}`
  }
  return new CredentialPluginError(plugin, outcome)
}
