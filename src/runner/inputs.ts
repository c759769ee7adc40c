import * as core from '@actions/core'
import { formatDuration, parseDuration } from '../token/duration.js'
import { InputError, quoted } from '../errors.js'
import { isDnsLabel, isDnsSubdomain } from '../kube/formats.js'
import {
  MAX_SECONDS,
  MIN_SECONDS,
  POD_EXTENSION_SECONDS,
  resolveLifetime,
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
    `Input '${name}' is ${quoted(raw)}, which is not a boolean: use true or false.`
  )
}

/** Namespaces are DNS-1123 labels. */
export function checkNamespace(name: string, value: string): string {
  if (!isDnsLabel(value)) {
    throw new InputError(
      `Input '${name}' is ${quoted(value)}, which is not a valid namespace name: use ` +
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
      `Input '${name}' is ${quoted(value)}, which is not a valid ${what} name: use ` +
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
    `Input 'bind-to' is ${quoted(raw)}, which is not supported: use 'secret' ` +
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
      `Input 'max-duration' is ${quoted(raw)}, below the API server's minimum token ` +
        `lifetime of 600s (10m): set it to 10m or more.`
    )
  }
  if (seconds > MAX_SECONDS) {
    throw new InputError(
      `Input 'max-duration' is ${quoted(raw)}, above the API server's maximum of ` +
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
      `Input 'duration' is ${quoted(raw)}, but the API server's minimum token ` +
        `lifetime is 600s (10m): set 'duration' to 10m or more.`
    )
  }
  if (seconds > maxSeconds) {
    throw new InputError(
      `Input 'duration' is ${quoted(raw)}, above 'max-duration' ` +
        `(${formatDuration(maxSeconds)}): shorten 'duration' or raise ` +
        `'max-duration' deliberately.`
    )
  }
  return { kind: 'explicit', seconds }
}

/** Refuse the one lifetime for which a Pod-bound token would live a year. */
function checkPodExtension(
  bindTo: BindTo,
  duration: DurationRequest,
  maxSeconds: number
): void {
  if (bindTo.kind !== 'pod') return
  if (resolveLifetime(duration, maxSeconds).seconds !== POD_EXTENSION_SECONDS)
    return
  const cause =
    duration.kind === 'explicit'
      ? `Input 'duration' is ${POD_EXTENSION_SECONDS}s`
      : `Input 'max-duration' is ${POD_EXTENSION_SECONDS}s, which 'duration: auto' asks for,`
  throw new InputError(
    `${cause} with 'bind-to: pod:${bindTo.name}', the one lifetime the API ` +
      `server silently extends to a year for Pod-bound tokens ` +
      `(--service-account-extend-token-expiration): choose any other ` +
      `duration, such as 1h.`
  )
}

function parseExcessPrivilege(raw: string): ExcessPrivilegeMode {
  const value = raw === '' ? 'warn' : raw
  if (value === 'warn' || value === 'fail' || value === 'off') return value
  throw new InputError(
    `Input 'excess-privilege' is ${quoted(raw)}, which is not supported: use ` +
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
  const duration = parseDurationInput(input('duration'), maxDurationSeconds)
  const bindTo = parseBindTo(input('bind-to'))
  checkPodExtension(bindTo, duration, maxDurationSeconds)
  return {
    serviceAccount: checkObjectName(
      'service-account',
      serviceAccount,
      'ServiceAccount'
    ),
    namespace,
    duration,
    maxDurationSeconds,
    audiences: parseList(core.getInput('audiences')),
    bindTo,
    kubeconfig: getKubeconfigInput(),
    context: input('context'),
    exportKubeconfig: booleanInput('export-kubeconfig', true),
    cleanup: booleanInput('cleanup', true),
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

/**
 * The bootstrap kubeconfig content, exactly as given: YAML is
 * indentation-sensitive, so a first line that is indented must keep its
 * spaces (core.getInput trims by default).
 */
export function getKubeconfigInput(): string {
  return core.getInput('kubeconfig', { trimWhitespace: false })
}
