import * as core from '@actions/core'
import { ActionError } from '../errors.js'
import type { BootstrapRef } from '../kube/bootstrap.js'
import type { LifetimeSource } from '../token/auto-lifetime.js'
import type { PerRunSecretRef } from '../token/per-run-secret.js'

/**
 * What main hands to post. Each field is saved *before* the thing it names
 * is created, so a main step that dies halfway still leaves post enough to
 * clean up. It never holds the token: the runner debug-logs saved state and
 * passes it to post as environment variables.
 */
export interface RunState {
  bootstrap?: BootstrapRef
  anchor?: PerRunSecretRef
  kubeconfigDir?: string
  kubeconfigPath?: string
  /** Set once main exported KUBECONFIG; null means it was unset before. */
  previousKubeconfig?: string | null
  credentialId?: string
  mintedAt?: string
  expiration?: string
  /** What the API server granted, for post's "held 12m of 25m". */
  grantedSeconds?: number
  lifetimeSource?: LifetimeSource
}

const RUN = 'run'
const IS_POST = 'isPost'

/**
 * True when this process is the post step. One bundle serves both steps, so
 * main marks itself first thing and the runner hands that mark to post.
 */
export function isPost(): boolean {
  return core.getState(IS_POST) === 'true'
}

export function markMainStarted(): void {
  core.saveState(IS_POST, 'true')
}

/**
 * Main's record of what it made. Every change is saved at once, and each
 * method is named for the moment it is called: before creating, after
 * creating, or after learning that nothing was created.
 */
export class RunRecord {
  private state: RunState = {}

  /** A copy of what has been recorded, for rollback. */
  get current(): RunState {
    return structuredClone(this.state)
  }

  bootstrap(ref: BootstrapRef): void {
    this.state.bootstrap = ref
    this.save()
  }

  /** Before creating the per-run Secret. */
  perRunSecretPlanned(ref: PerRunSecretRef): void {
    this.state.anchor = { ...ref }
    this.save()
  }

  /** The create was answered; the uid is unknown when a retry found it made. */
  perRunSecretCreated(uid: string | undefined): void {
    if (this.state.anchor) {
      this.state.anchor.created = true
      if (uid) this.state.anchor.uid = uid
    }
    this.save()
  }

  /** The create call was refused or never connected: nothing to delete. */
  perRunSecretNotCreated(): void {
    delete this.state.anchor
    this.save()
  }

  minted(facts: {
    mintedAt: string
    credentialId: string
    expiration: string
    grantedSeconds: number
    lifetimeSource: LifetimeSource
  }): void {
    Object.assign(this.state, facts)
    this.save()
  }

  /** Before creating the directory; returns it for the caller's convenience. */
  kubeconfigDir(dir: string): string {
    this.state.kubeconfigDir = dir
    this.save()
    return dir
  }

  kubeconfigFile(file: string): void {
    this.state.kubeconfigPath = file
    this.save()
  }

  /** Before exporting KUBECONFIG: what post restores. */
  exportingKubeconfig(previous: string | null): void {
    this.state.previousKubeconfig = previous
    this.save()
  }

  /** Forget everything, after main rolled back its own work. */
  clear(): void {
    this.state = {}
    core.saveState(RUN, '')
  }

  private save(): void {
    core.saveState(RUN, JSON.stringify(this.state))
  }
}

/** Saved state that is there but cannot be read: post cannot know what main made. */
export class UnreadableStateError extends ActionError {
  constructor() {
    super('The state the main step saved could not be read.')
    this.name = 'UnreadableStateError'
  }
}

/**
 * The state main saved, or undefined when it saved nothing (or rolled back);
 * throws UnreadableStateError when it is there but is not a record.
 */
export function getRunState(): RunState | undefined {
  const raw = core.getState(RUN)
  if (raw === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new UnreadableStateError()
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UnreadableStateError()
  }
  return parsed
}
