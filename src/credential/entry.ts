// The credential helper: what the kubeconfig written with `renew-every`
// runs (`node dist/credential.js <kubeconfig dir>`) for kubectl and every
// other client that speaks client.authentication.k8s.io/v1. A thin front
// door: the decisions are in src/core/renewal/. Its stdout carries the
// ExecCredential and nothing else; every failure is one sentence on stderr
// (the client shows it) and a non-zero exit, never a stack trace, never a
// `::` command (a later step's log is not a runner command channel).
import { errorMessage, ActionError } from '../core/errors.js'
import { redact } from '../core/masking.js'
import { useHost } from '../core/ports.js'
import { credentialFor } from '../core/renewal/credential.js'
import { envProxyFor } from '../core/renewal/env-proxy.js'
import { withRenewalLock } from '../core/renewal/lock.js'

const PREFIX = 'ephemeral-scan-token credential helper:'

useHost({
  // Nothing masks outside a runner, and this runs inside a client: the
  // values are still kept, by masking.ts, to redact the sentences below.
  mask: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  warning: (line) => {
    process.stderr.write(`${PREFIX} ${redact(line)}\n`)
  },
  saveRecord: () => {
    throw new Error('the credential helper keeps no run record')
  },
  exportVariable: () => {
    throw new Error('the credential helper exports nothing')
  },
  proxyFor: (url) => envProxyFor(url)
})

/** An unexpected error's code only: its message may hold anything. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)
    ? code
    : 'no error code'
}

const args = process.argv.slice(2)
if (args.length !== 1 || !args[0]) {
  process.stderr.write(
    `${PREFIX} expected exactly one argument, the kubeconfig directory: ` +
      `use the kubeconfig the ephemeral-scan-token step wrote, unchanged.\n`
  )
  process.exit(2)
}

try {
  const credential = await credentialFor(args[0], {
    now: Date.now,
    // Loaded only when a renewal is due: a cache hit never parses client-node.
    mint: async (config, seconds) =>
      (await import('../core/renewal/mint.js')).mintRenewal(config, seconds),
    lock: withRenewalLock
  })
  process.stdout.write(`${JSON.stringify(credential)}\n`)
} catch (error) {
  const sentence =
    error instanceof ActionError
      ? errorMessage(error)
      : `The credential helper failed unexpectedly (${codeOf(error)}), so ` +
        `no credential is printed: re-run the job, and report it if it persists.`
  process.stderr.write(`${PREFIX} ${redact(sentence)}\n`)
  process.exitCode = 1
}
