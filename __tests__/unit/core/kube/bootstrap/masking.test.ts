/**
 * Every kind of bootstrap credential is masked: what the kubeconfig holds
 * (statically, before anything can print it) and what actually goes on the
 * wire (whatever produced it: exec plugin, token file, in-cluster token, an
 * auth provider's refresh). Real client-node, no network: the requests are
 * prepared (authenticated) but never sent.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { openBootstrap } from '../../../../../src/core/kube/bootstrap/index.js'
import {
  maskBootstrapCredentials,
  maskOnTheWire
} from '../../../../../src/core/kube/bootstrap/masking.js'
import { mainBounds } from '../../../../../src/core/kube/deadline.js'
import { redact } from '../../../../../src/core/masking.js'
import { TestRunner } from '../../../../../__fixtures__/runner.js'
import { CA_DATA, SERVER, fakeJwt } from '../../../../../__fixtures__/tokens.js'

let runner: TestRunner

beforeEach(() => {
  runner = new TestRunner()
})

afterEach(() => {
  runner.restore()
})

/** A value no earlier test registered (the masker remembers for the process). */
const unique = (label: string): string =>
  `${label}-${randomBytes(12).toString('hex')}`

/** A PEM block whose body lines are all unique to this test. */
function pem(kind: string): { text: string; body: string[] } {
  const body = [0, 1, 2].map(() => randomBytes(48).toString('base64'))
  return {
    text: `-----BEGIN ${kind}-----\n${body.join('\n')}\n-----END ${kind}-----\n`,
    body
  }
}

function kubeconfigWithUser(user: Record<string, unknown>): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c',
        cluster: { server: SERVER, 'certificate-authority-data': CA_DATA }
      }
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx'
  })
}

const masked = (): string[] =>
  runner.commands('add-mask').map((line) => line.slice('::add-mask::'.length))

/** Authenticate one request the way every API call does, without sending it. */
async function prepareRequest(kc: KubeConfig): Promise<string> {
  const context = new RequestContext(`${SERVER}/api`, HttpMethod.GET)
  await kc.applySecurityAuthentication(context)
  return context.getHeaders().Authorization ?? ''
}

describe('bootstrap/masking.ts masks what the kubeconfig holds', () => {
  it('masks a token, and a numeric one as its text instead of crashing', async () => {
    const token = unique('static-token')
    await openBootstrap(
      kubeconfigWithUser({ token }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toContain(token)

    const numeric = 900000000000 + Math.floor(Math.random() * 1e9)
    const content = kubeconfigWithUser({ token: numeric })
    // Dumped unquoted, so YAML reads it back as a number (F3).
    expect(content).toContain(`token: ${numeric}\n`)
    await openBootstrap(content, '', undefined, mainBounds())
    expect(masked()).toContain(String(numeric))
  })

  it('masks a password and the Basic header built from it', async () => {
    const password = unique('pw')
    await openBootstrap(
      kubeconfigWithUser({ username: 'admin', password }),
      '',
      undefined,
      mainBounds()
    )
    const basic = Buffer.from(`admin:${password}`).toString('base64')
    expect(masked()).toEqual(expect.arrayContaining([password, basic]))
    expect(redact(`Authorization: Basic ${basic}`)).toBe(
      'Authorization: Basic ***'
    )
  })

  it('masks client-key-data, and its decoded PEM line by line without the armour', async () => {
    const key = pem('PRIVATE KEY')
    const keyData = Buffer.from(key.text).toString('base64')
    await openBootstrap(
      kubeconfigWithUser({
        'client-certificate-data': CA_DATA,
        'client-key-data': keyData
      }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toEqual(expect.arrayContaining([keyData, ...key.body]))
    expect(masked()).not.toContain('-----BEGIN PRIVATE KEY-----')
    expect(redact(key.text)).not.toMatch(/[A-Za-z0-9+/]{40}/)
  })

  it('masks a client-key file line by line', async () => {
    const key = pem('EC PRIVATE KEY')
    const file = path.join(runner.root, 'client.key')
    fs.writeFileSync(file, key.text)
    const cert = path.join(runner.root, 'client.crt')
    fs.writeFileSync(cert, 'not secret')
    await openBootstrap(
      kubeconfigWithUser({ 'client-certificate': cert, 'client-key': file }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toEqual(expect.arrayContaining(key.body))
  })

  it('masks a token file without its trailing newline, so redact() finds it in messages', async () => {
    const token = unique('file-token')
    const file = path.join(runner.root, 'token')
    fs.writeFileSync(file, `${token}\n`)
    const { kc } = await openBootstrap(
      kubeconfigWithUser({ 'token-file': file }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toContain(token)
    expect(redact(`the server said: bad token ${token}.`)).toBe(
      'the server said: bad token ***.'
    )
    // client-node sends the newline along; the wire mask is the bare token.
    expect(await prepareRequest(kc)).toBe(`Bearer ${token}\n`)
    expect(masked().filter((value) => value.includes(token))).toEqual([token])
  })

  it('masks the tokens an auth-provider entry keeps in its config', async () => {
    const config = {
      'access-token': unique('access'),
      'id-token': unique('id'),
      'refresh-token': unique('refresh'),
      'client-secret': unique('secret')
    }
    await openBootstrap(
      kubeconfigWithUser({ 'auth-provider': { name: 'azure', config } }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toEqual(expect.arrayContaining(Object.values(config)))
  })
})

describe('bootstrap/masking.ts masks what goes on the wire', () => {
  it('masks an exec plugin’s token and client key before the request is sent', async () => {
    const token = unique('exec-token')
    const key = pem('RSA PRIVATE KEY')
    const plugin = path.join(runner.root, 'get-token.sh')
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token, clientKeyData: key.text, clientCertificateData: 'x' }
    }
    fs.writeFileSync(
      plugin,
      `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(credential)}\nEOF\n`,
      { mode: 0o700 }
    )
    const { kc } = await openBootstrap(
      kubeconfigWithUser({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: plugin
        }
      }),
      '',
      undefined,
      mainBounds()
    )
    // Nothing in the kubeconfig held the token: only the request can mask it.
    expect(masked()).not.toContain(token)
    expect(await prepareRequest(kc)).toBe(`Bearer ${token}`)
    expect(masked()).toEqual(expect.arrayContaining([token, ...key.body]))
    expect(redact(`echoed: Bearer ${token}`)).toBe('echoed: Bearer ***')
  })

  it('masks the in-cluster ServiceAccount token, also after the kubelet rotated it', async () => {
    const root = path.join(runner.root, 'pod')
    const dir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
    fs.mkdirSync(dir, { recursive: true })
    const first = unique('in-cluster')
    fs.writeFileSync(path.join(dir, 'token'), first)
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'not secret')
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1'
    process.env.KUBERNETES_SERVICE_PORT = '6443'
    const kc = new KubeConfig()
    kc.loadFromCluster(root)
    maskBootstrapCredentials(kc)
    maskOnTheWire(kc)
    expect(masked()).toContain(first)
    // Rotated between loading and the first request: only the wire shows it.
    const rotated = unique('rotated')
    fs.writeFileSync(path.join(dir, 'token'), rotated)
    expect(await prepareRequest(kc)).toBe(`Bearer ${rotated}`)
    expect(masked()).toContain(rotated)
  })

  it('masks an auth provider’s refreshed token, which the config did not hold at load', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600
    const loaded = fakeJwt({ sub: unique('loaded'), exp })
    const { kc } = await openBootstrap(
      kubeconfigWithUser({
        'auth-provider': {
          name: 'oidc',
          config: { 'client-id': 'k8s', 'id-token': loaded }
        }
      }),
      '',
      undefined,
      mainBounds()
    )
    expect(masked()).toContain(loaded)
    // What a refresh does: write the new id-token back into the config.
    const refreshed = fakeJwt({ sub: unique('refreshed'), exp })
    const config = kc.getCurrentUser()?.authProvider as {
      config: Record<string, string>
    }
    config.config['id-token'] = refreshed
    expect(await prepareRequest(kc)).toBe(`Bearer ${refreshed}`)
    expect(masked()).toContain(refreshed)
  })

  it('refuses a KubeConfig without the hook, rather than leave the wire unmasked', () => {
    const notAKubeConfig = {} as KubeConfig
    expect(() => {
      maskOnTheWire(notAKubeConfig)
    }).toThrow(/applyOptions/)
  })
})
