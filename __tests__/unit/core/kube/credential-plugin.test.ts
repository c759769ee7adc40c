import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { KubeConfig, type User } from '@kubernetes/client-node'
import { connect } from '../../../../src/core/kube/cluster-api.js'
import {
  certainlyNotApplied,
  describeApiError
} from '../../../../src/core/kube/api-errors.js'
import {
  historyOf,
  type CallBounds
} from '../../../../src/core/kube/deadline.js'
import { CredentialPluginError } from '../../../../src/core/kube/credential-plugin.js'

// Real plugins, run by client-node as it runs them for a job: a node script
// that writes a secret to stderr and exits non-zero, a command that does not
// exist, and the gcp auth provider's command.

const SECRET_STDERR = 'stderr-holds-a-secret-0123456789'
const SECRET_ARG = 'arg-holds-a-secret-abcdef'
let dir: string
let failing: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-'))
  failing = path.join(dir, 'failing-plugin.mjs')
  fs.writeFileSync(
    failing,
    `process.stderr.write(${JSON.stringify(SECRET_STDERR)}); process.exit(Number(process.argv[2]))\n`
  )
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

function kubeconfig(user: Omit<User, 'name'>): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    // Never reached: the credential comes first.
    clusters: [
      { name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }
    ],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x'
  })
  return kc
}

function bounds(): CallBounds {
  return {
    attemptMs: 5_000,
    attempts: 3,
    callMs: 10_000,
    endsAt: Date.now() + 10_000
  }
}

const SECRET = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'ephemeral-scan-token-1-1-00aa11bb22', namespace: 'ns' }
}

async function failure(
  kc: KubeConfig
): Promise<{ error: unknown; message: string }> {
  const error = await connect(kc, bounds())
    .createSecret('ns', SECRET)
    .then(
      () => new Error('the call succeeded'),
      (e: unknown) => e
    )
  const message = describeApiError(error, {
    operation: 'create-secret',
    server: 'https://127.0.0.1:1',
    namespace: 'ns'
  }).message
  return { error, message }
}

describe('credential plugin failures (unit, real plugins)', () => {
  it('says the exec plugin failed, with its exit code and nothing it printed or was given', async () => {
    const { error, message } = await failure(
      kubeconfig({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [failing, '3', SECRET_ARG]
        }
      })
    )
    expect(error).toBeInstanceOf(CredentialPluginError)
    expect(message).toBe(
      "The bootstrap kubeconfig's credential plugin (its current user's exec credential plugin) failed (exit code 3), so no request was sent: check that its command is installed on this runner and works in this job's environment (its output is not shown, as it may hold secrets), or use a kubeconfig whose user holds a token or a client certificate."
    )
    for (const text of [message, (error as Error).message]) {
      expect(text).not.toContain(SECRET_STDERR)
      expect(text).not.toContain(SECRET_ARG)
      expect(text).not.toContain(failing)
    }
    // Not retried (another run fails the same way), and certainly not sent.
    expect(historyOf(error)?.attempts).toBe(1)
    expect(certainlyNotApplied(error)).toBe(true)
  })

  it('says ENOENT for an exec command that is not installed, without naming it', async () => {
    const { message } = await failure(
      kubeconfig({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: path.join(dir, 'not-installed-login-helper'),
          args: [SECRET_ARG]
        }
      })
    )
    expect(message).toContain(
      "credential plugin (its current user's exec credential plugin) failed (ENOENT), so no request was sent"
    )
    expect(message).not.toContain('not-installed-login-helper')
    expect(message).not.toContain(SECRET_ARG)
  })

  it("names the gcp auth-provider and its command's exit code", async () => {
    const { message } = await failure(
      kubeconfig({
        authProvider: {
          name: 'gcp',
          config: {
            'cmd-path': process.execPath,
            'cmd-args': `${failing} 4 ${SECRET_ARG}`,
            'token-key': '{.access_token}',
            'expiry-key': '{.expiry}'
          }
        }
      })
    )
    expect(message).toContain(
      "credential plugin (its current user's auth-provider 'gcp') failed (exit code 4), so no request was sent"
    )
    expect(message).not.toContain(SECRET_STDERR)
    expect(message).not.toContain(SECRET_ARG)
  })

  it('keeps a plain token user on the network sentence', async () => {
    const { error, message } = await failure(kubeconfig({ token: 't' }))
    expect(error).not.toBeInstanceOf(CredentialPluginError)
    expect(message).toContain('Could not reach the API server')
  })
})
