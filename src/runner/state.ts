import * as core from '@actions/core'
import type { AnchorRef } from '../token/per-run-secret.js'
import type { BootstrapRef } from '../kube/bootstrap.js'

/**
 * What main hands to post. Each field is saved *before* the thing it names
 * is created, so a main step that dies halfway still leaves post enough to
 * clean up. It never holds the token: the runner debug-logs saved state and
 * passes it to post as environment variables.
 */
export interface RunState {
  bootstrap?: BootstrapRef
  anchor?: AnchorRef
  kubeconfigDir?: string
  kubeconfigPath?: string
  /** Set once main exported KUBECONFIG; null means it was unset before. */
  previousKubeconfig?: string | null
  credentialId?: string
  mintedAt?: string
  expiration?: string
}

const KEY = 'run'

export function saveRunState(state: RunState): void {
  core.saveState(KEY, JSON.stringify(state))
}

/** Forget everything, after main rolled back its own work. */
export function clearRunState(): void {
  core.saveState(KEY, '')
}

/** The saved state, or undefined when main saved nothing (or rolled back). */
export function getRunState(): RunState | undefined {
  const raw = core.getState(KEY)
  if (raw === '') return undefined
  try {
    return JSON.parse(raw) as RunState
  } catch {
    return undefined
  }
}
