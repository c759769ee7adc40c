// Unit tests of the in-cluster kind opened from plain values, as a process
// that is not the action (the renewal helper) opens it: files in a temp
// directory stand in for the kubelet's mount; no network call is made.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node'
import { InputError } from '../../../../../src/core/errors.js'
import {
  openInCluster,
  type InClusterValues
} from '../../../../../src/core/kube/bootstrap/in-cluster.js'
import { TestRunner } from '../../../../../__fixtures__/runner.js'

let runner: TestRunner
let values: Required<Omit<InClusterValues, 'server'>>
let root: string
const env = {
  KUBERNETES_SERVICE_HOST: '127.0.0.1',
  KUBERNETES_SERVICE_PORT: '6443'
}

beforeEach(() => {
  runner = new TestRunner()
  root = path.join(runner.root, 'pod')
  const dir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
  fs.mkdirSync(dir, { recursive: true })
  values = {
    caFile: path.join(dir, 'ca.crt'),
    tokenFile: path.join(dir, 'token')
  }
  fs.writeFileSync(values.caFile, 'not secret')
  fs.writeFileSync(
    values.tokenFile,
    `in-cluster-${randomBytes(12).toString('hex')}`
  )
})

afterEach(() => {
  runner.restore()
})

describe('bootstrap/in-cluster.ts openInCluster (unit, files only)', () => {
  it("builds what client-node's loadFromCluster builds, from the Service environment", () => {
    const opened = openInCluster(values, env)
    const loaded = new KubeConfig()
    const saved = { ...process.env }
    Object.assign(process.env, env)
    try {
      loaded.loadFromCluster(root)
    } finally {
      process.env = saved
    }
    expect(opened.kc.getClusters()).toEqual(loaded.getClusters())
    expect(opened.kc.getUsers()).toEqual(loaded.getUsers())
    expect(opened.kc.getCurrentContext()).toBe(loaded.getCurrentContext())
    expect(opened.ref).toEqual({
      source: { kind: 'in-cluster' },
      context: loaded.getCurrentContext(),
      server: 'https://127.0.0.1:6443'
    })
    expect(opened.describe()).toBe('the in-cluster ServiceAccount')
  })

  it('takes the server from the values, and masks the token file before any request', async () => {
    const opened = openInCluster(
      { ...values, server: 'https://10.0.0.1:443' },
      {}
    )
    expect(opened.kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:443')
    const token = fs.readFileSync(values.tokenFile, 'utf8')
    expect(runner.commands('add-mask')).toContain(`::add-mask::${token}`)
    const context = new RequestContext(
      'https://10.0.0.1:443/api',
      HttpMethod.GET
    )
    await opened.kc.applySecurityAuthentication(context)
    expect(context.getHeaders().Authorization).toBe(`Bearer ${token}`)
  })

  it('refuses a plain-http Service port and a missing CA file, as the action does', () => {
    expect(() =>
      openInCluster(values, { ...env, KUBERNETES_SERVICE_PORT: '8080' })
    ).toThrow(InputError)
    expect(() =>
      openInCluster({ ...values, caFile: path.join(root, 'none') }, env)
    ).toThrow(/certificate-authority file named in the in-cluster/)
  })

  it('refuses a Service environment without a port instead of naming port 443 (review finding)', () => {
    const { KUBERNETES_SERVICE_HOST } = env
    expect(() => openInCluster(values, { KUBERNETES_SERVICE_HOST })).toThrow(
      /needs both KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/
    )
    expect(() =>
      openInCluster(values, { KUBERNETES_SERVICE_PORT: '6443' })
    ).toThrow(InputError)
  })

  it("refuses NODE_TLS_REJECT_UNAUTHORIZED=0 in the process's own environment, whatever env it is given (review finding)", () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
    try {
      expect(() => openInCluster(values, env)).toThrow(
        /NODE_TLS_REJECT_UNAUTHORIZED=0/
      )
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
    }
  })
})
