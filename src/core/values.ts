// Checks of the values a front door is given (the action's inputs, the
// CLI's flags), shared so both refuse the same things with the same
// sentences. They name the value as the action's input ('Input \'duration\''); the
// CLI rewrites those names into its flags (src/cli/flag-words.ts). Each
// throws InputError and touches no network.
import { X509Certificate } from 'node:crypto'
import { formatDuration, parseDuration } from './token/duration.js'
import { InputError, quoted } from './errors.js'
import { isDnsLabel, isDnsSubdomain } from './kube/formats.js'
import { userinfoOf } from './kube/kubeconfig-references.js'
import { maskSecret } from './masking.js'
import {
  MAX_SECONDS,
  MIN_SECONDS,
  POD_EXTENSION_SECONDS,
  type DurationRequest
} from './token/lifetime.js'
import type { BindTo } from './token/token-request.js'
import type { ExcessPrivilegeMode } from './proof/prove-token.js'

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

export function parseBindTo(raw: string): BindTo {
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

export function parseMaxDuration(raw: string): number {
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

export function parseDurationInput(
  raw: string,
  maxSeconds: number
): DurationRequest {
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
export function checkPodExtension(
  bindTo: BindTo,
  duration: DurationRequest,
  maxSeconds: number
): void {
  if (bindTo.kind !== 'pod') return
  // auto asks for whole minutes plus 5m, so it reaches 3607 s only when
  // capped at a max-duration of exactly that.
  const asked = duration.kind === 'explicit' ? duration.seconds : maxSeconds
  if (asked !== POD_EXTENSION_SECONDS) return
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

export function parseExcessPrivilege(raw: string): ExcessPrivilegeMode {
  const value = raw === '' ? 'warn' : raw
  if (value === 'warn' || value === 'fail' || value === 'off') return value
  throw new InputError(
    `Input 'excess-privilege' is ${quoted(raw)}, which is not supported: use ` +
      `'warn', 'fail' or 'off'.`
  )
}

/** `https://host[:port][/path]`, with no credentials in it. */
export function parseServer(raw: string): string {
  // First, so that no sentence below can echo a password: it is masked and
  // never quoted.
  const userinfo = userinfoOf(raw)
  if (userinfo) {
    maskSecret(userinfo.user)
    maskSecret(userinfo.password)
    throw new InputError(
      `Input 'server' carries a user name or password, which this action ` +
        `never sends: remove them and keep only https://host:port.`
    )
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(
      `Input 'server' is not a URL: set it to the API server's address, ` +
        `such as https://203.0.113.10:6443.`
    )
  }
  // Literally, as the record check and the client want it (the URL parser
  // also passes 'HTTPS://' and surrounding spaces).
  if (url.protocol !== 'https:' || !raw.startsWith('https://')) {
    // Neither this sentence nor the one above quotes the value, whole or in
    // part: a server kept in a secret may carry a token in its query, and
    // the runner masks only whole values.
    throw new InputError(
      `Input 'server' is not an https:// URL: use the API server's ` +
        `https:// address, since the ID token is only ever sent over TLS.`
    )
  }
  return raw
}

const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * Base64 of one or more PEM certificates, each of which parses as X.509,
 * exactly what a kubeconfig's certificate-authority-data holds.
 */
export function parseCaData(raw: string): string {
  const fix =
    `set 'certificate-authority-data' to the base64 of the cluster's CA ` +
    `PEM, for example the output of 'base64 -w0 ca.crt' or the ` +
    `certificate-authority-data of an admin kubeconfig`
  const compact = raw.replace(/\s+/g, '')
  if (compact === '') {
    throw new InputError(`Input 'certificate-authority-data' is empty: ${fix}.`)
  }
  if (raw.includes('-----BEGIN')) {
    throw new InputError(
      `Input 'certificate-authority-data' is PEM text, not its base64: ${fix}.`
    )
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new InputError(
      `Input 'certificate-authority-data' is not valid base64: ${fix}.`
    )
  }
  const pem = Buffer.from(compact, 'base64').toString('utf8')
  const blocks = pem.match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) {
    throw new InputError(
      `Input 'certificate-authority-data' decodes to no PEM certificate: ${fix}.`
    )
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block)
    } catch {
      throw new InputError(
        `Input 'certificate-authority-data' holds a certificate (number ` +
          `${index + 1}) that does not parse as X.509: ${fix}.`
      )
    }
  })
  return compact
}
