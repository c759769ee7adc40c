import * as core from '@actions/core'
import { formatDuration, parseDuration } from '../token/duration.js'
import { InputError } from '../errors.js'
import { isDnsLabel, isDnsSubdomain } from '../kube/formats.js'
import {
  MAX_SECONDS,
  MIN_SECONDS,
  type DurationRequest
} from '../token/lifetime.js'
import { parseChecks, type AccessCheck } from '../proof/can-i-lines.js'

export type ExcessPrivilegeMode = 'warn' | 'fail' | 'off'

export type BindTo =
  { kind: 'secret' } | { kind: 'none' } | { kind: 'pod'; name: string }

/** Every input of the main step, parsed and validated. */
export interface Inputs {
  serviceAccount: string
  namespace: string
  duration: DurationRequest
  maxDurationSeconds: number
  audiences: string[]
  bindTo: BindTo
  /** Bootstrap kubeconfig content; '' means: find one on the runner. */
  kubeconfig: string
  context: string
  exportKubeconfig: boolean
  cleanup: boolean
  outputToken: boolean
  /** Confirm the token's identity with SelfSubjectReview. */
  verify: boolean
  expectAllowed: AccessCheck[]
  expectDenied: AccessCheck[]
  excessPrivilege: ExcessPrivilegeMode
}

function input(name: string): string {
  return core.getInput(name).trim()
}

function booleanInput(name: string, fallback: boolean): boolean {
  const raw = input(name)
  if (raw === '') return fallback
  if (['true', 'True', 'TRUE'].includes(raw)) return true
  if (['false', 'False', 'FALSE'].includes(raw)) return false
  throw new InputError(
    `Input '${name}' is '${raw}', which is not a boolean: use true or false.`
  )
}

/** Namespaces are DNS-1123 labels. */
export function checkNamespace(name: string, value: string): string {
  if (!isDnsLabel(value)) {
    throw new InputError(
      `Input '${name}' is '${value}', which is not a valid namespace name: use ` +
        `at most 63 lowercase letters, digits and '-', starting and ending with ` +
        `a letter or digit.`
    )
  }
  return value
}

/** ServiceAccount and Pod names are DNS-1123 subdomains, as Kubernetes validates them. */
export function checkObjectName(
  name: string,
  value: string,
  what: string
): string {
  if (!isDnsSubdomain(value)) {
    throw new InputError(
      `Input '${name}' is '${value}', which is not a valid ${what} name: use ` +
        `lowercase letters, digits, '-' and '.', starting and ending with a ` +
        `letter or digit.`
    )
  }
  return value
}

function parseBindTo(raw: string): BindTo {
  const value = raw === '' ? 'secret' : raw
  if (value === 'secret') return { kind: 'secret' }
  if (value === 'none') return { kind: 'none' }
  if (value.startsWith('pod:')) {
    return {
      kind: 'pod',
      name: checkObjectName('bind-to', value.slice(4).trim(), 'Pod')
    }
  }
  throw new InputError(
    `Input 'bind-to' is '${raw}', which is not supported: use 'secret' ` +
      `(revocable), 'pod:<pod-name>' or 'none'.`
  )
}

/** Split a comma- or newline-separated list, dropping blanks and repeats. */
export function parseList(raw: string): string[] {
  const items = raw
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
  return [...new Set(items)]
}

function parseMaxDuration(raw: string): number {
  const seconds = parseDuration('max-duration', raw === '' ? '1h' : raw)
  if (seconds < MIN_SECONDS) {
    throw new InputError(
      `Input 'max-duration' is '${raw}', below the API server's minimum token ` +
        `lifetime of 600s (10m): set it to 10m or more.`
    )
  }
  if (seconds > MAX_SECONDS) {
    throw new InputError(
      `Input 'max-duration' is '${raw}', above the API server's maximum of ` +
        `2^32 seconds: set a shorter ceiling such as 6h.`
    )
  }
  return seconds
}

function parseDurationInput(raw: string, maxSeconds: number): DurationRequest {
  if (raw === '' || raw === 'auto') return { kind: 'auto' }
  const seconds = parseDuration('duration', raw)
  if (seconds < MIN_SECONDS) {
    throw new InputError(
      `Input 'duration' is '${raw}', but the API server's minimum token ` +
        `lifetime is 600s (10m): set 'duration' to 10m or more.`
    )
  }
  if (seconds > maxSeconds) {
    throw new InputError(
      `Input 'duration' is '${raw}', above 'max-duration' ` +
        `(${formatDuration(maxSeconds)}): shorten 'duration' or raise ` +
        `'max-duration' deliberately.`
    )
  }
  return { kind: 'explicit', seconds }
}

function parseExcessPrivilege(raw: string): ExcessPrivilegeMode {
  const value = raw === '' ? 'warn' : raw
  if (value === 'warn' || value === 'fail' || value === 'off') return value
  throw new InputError(
    `Input 'excess-privilege' is '${raw}', which is not supported: use ` +
      `'warn', 'fail' or 'off'.`
  )
}

/** Read and validate every input of the main step; throws InputError. */
export function getInputs(): Inputs {
  const serviceAccount = input('service-account')
  if (serviceAccount === '') {
    throw new InputError(
      `Input 'service-account' is required: set it to the name of the ` +
        `ServiceAccount the token is for.`
    )
  }
  const maxDurationSeconds = parseMaxDuration(input('max-duration'))
  const namespace = checkNamespace('namespace', input('namespace') || 'default')
  const bindTo = parseBindTo(input('bind-to'))
  const cleanup = booleanInput('cleanup', true)
  if (!cleanup && bindTo.kind === 'secret') {
    // Only post deletes the per-run Secret, and Secrets never expire.
    throw new InputError(
      `Input 'cleanup' is false, but with 'bind-to: secret' (the default) ` +
        `that would leave the per-run Secret in the cluster forever: set ` +
        `'bind-to: none' to keep a token that simply expires, or keep ` +
        `'cleanup: true'.`
    )
  }
  return {
    serviceAccount: checkObjectName(
      'service-account',
      serviceAccount,
      'ServiceAccount'
    ),
    namespace,
    duration: parseDurationInput(input('duration'), maxDurationSeconds),
    maxDurationSeconds,
    audiences: parseList(core.getInput('audiences')),
    bindTo,
    // Content keeps its own whitespace: YAML is indentation-sensitive.
    kubeconfig: core.getInput('kubeconfig'),
    context: input('context'),
    exportKubeconfig: booleanInput('export-kubeconfig', true),
    cleanup,
    outputToken: booleanInput('output-token', false),
    verify: booleanInput('verify', true),
    expectAllowed: parseChecks(
      'expect-allowed',
      core.getInput('expect-allowed'),
      namespace
    ),
    expectDenied: parseChecks(
      'expect-denied',
      core.getInput('expect-denied'),
      namespace
    ),
    excessPrivilege: parseExcessPrivilege(input('excess-privilege'))
  }
}

/** The post step only needs to know whether to clean up at all. */
export function getCleanupInput(): boolean {
  return booleanInput('cleanup', true)
}

/** The bootstrap kubeconfig content, as post re-reads it. */
export function getKubeconfigInput(): string {
  return core.getInput('kubeconfig')
}
