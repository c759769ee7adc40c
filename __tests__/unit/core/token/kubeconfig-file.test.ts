import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { KubeConfig, type Cluster } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { ActionError } from '../../../../src/core/errors.js'
import {
  ENTRY_NAME,
  FILE_NAME,
  buildKubeconfig,
  isOwnKubeconfigDir,
  newKubeconfigDir,
  removeKubeconfigDir,
  requireRunnerTemp,
  serialiseKubeconfig,
  toKubeConfig,
  writeKubeconfig
} from '../../../../src/core/token/kubeconfig-file.js'
import {
  CA_DATA,
  CA_PEM,
  SERVER,
  serviceAccountToken
} from '../../../../__fixtures__/tokens.js'

interface Written {
  apiVersion: string
  kind: string
  clusters: { name: string; cluster: Record<string, string> }[]
  users: { name: string; user: Record<string, string> }[]
  contexts: { name: string; context: Record<string, string> }[]
  'current-context': string
}

function cluster(fields: Partial<Cluster> = {}): Cluster {
  return {
    name: 'ci',
    server: SERVER,
    skipTLSVerify: false,
    caData: CA_DATA,
    ...fields
  }
}

function roundTrip(config: Record<string, unknown>): Written {
  return yaml.load(serialiseKubeconfig(config)) as Written
}

let temp: string
const savedUmask = process.umask(0o022)
process.umask(savedUmask)

beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'est-kubeconfig-'))
})

afterEach(() => {
  process.umask(savedUmask)
  fs.rmSync(temp, { recursive: true, force: true })
})

describe('kubeconfig-file.ts', () => {
  describe('buildKubeconfig', () => {
    const { token } = serviceAccountToken('scans', 'scanner', 3600)

    it('points one context at the server, the CA, the namespace and the token', () => {
      const config = buildKubeconfig(
        cluster(),
        token,
        'scans'
      ) as unknown as Written
      expect(config.apiVersion).toBe('v1')
      expect(config.kind).toBe('Config')
      expect(config.clusters).toEqual([
        {
          name: ENTRY_NAME,
          cluster: { server: SERVER, 'certificate-authority-data': CA_DATA }
        }
      ])
      expect(config.users).toEqual([{ name: ENTRY_NAME, user: { token } }])
      expect(config.contexts).toEqual([
        {
          name: ENTRY_NAME,
          context: { cluster: ENTRY_NAME, user: ENTRY_NAME, namespace: 'scans' }
        }
      ])
      expect(config['current-context']).toBe(ENTRY_NAME)
    })

    it('never turns TLS verification off', () => {
      const text = serialiseKubeconfig(
        buildKubeconfig(cluster(), token, 'scans')
      )
      expect(text).not.toContain('insecure-skip-tls-verify')
      expect(toKubeConfig(text).getCurrentCluster()?.skipTLSVerify).toBe(false)
    })

    it('inlines a CA that the bootstrap kubeconfig referenced as a file', () => {
      const caFile = path.join(temp, 'ca.crt')
      fs.writeFileSync(caFile, CA_PEM)
      const config = roundTrip(
        buildKubeconfig(cluster({ caData: undefined, caFile }), token, 'scans')
      )
      expect(config.clusters[0]?.cluster['certificate-authority-data']).toBe(
        CA_DATA
      )
      expect(config.clusters[0]?.cluster).not.toHaveProperty(
        'certificate-authority'
      )
    })

    it('writes no CA entry when the bootstrap had none (system trust)', () => {
      const config = roundTrip(
        buildKubeconfig(cluster({ caData: undefined }), token, 'scans')
      )
      expect(config.clusters[0]?.cluster).toEqual({ server: SERVER })
    })

    it('keeps tls-server-name and proxy-url', () => {
      const config = roundTrip(
        buildKubeconfig(
          cluster({
            tlsServerName: 'kubernetes.default.svc',
            proxyUrl: 'http://proxy.internal:3128'
          }),
          token,
          'scans'
        )
      )
      expect(config.clusters[0]?.cluster).toEqual({
        server: SERVER,
        'certificate-authority-data': CA_DATA,
        'tls-server-name': 'kubernetes.default.svc',
        'proxy-url': 'http://proxy.internal:3128'
      })
    })

    it('serialises to YAML that parses back to the same data', () => {
      const config = buildKubeconfig(
        cluster({ tlsServerName: 'k8s.local' }),
        token,
        'scans'
      )
      expect(yaml.load(serialiseKubeconfig(config))).toEqual(config)
    })

    it('serialises to a kubeconfig that client-node reads as the same cluster, user and namespace', () => {
      const kc = toKubeConfig(
        serialiseKubeconfig(buildKubeconfig(cluster(), token, 'scans'))
      )
      expect(kc.getCurrentContext()).toBe(ENTRY_NAME)
      expect(kc.getCurrentCluster()?.server).toBe(SERVER)
      expect(kc.getCurrentCluster()?.caData).toBe(CA_DATA)
      expect(kc.getCurrentUser()?.token).toBe(token)
      expect(kc.getContextObject(ENTRY_NAME)?.namespace).toBe('scans')
    })
  })

  describe('YAML injection', () => {
    const hostile = [
      'x\nusers: []',
      'a: b',
      'value # comment',
      '{ "insecure-skip-tls-verify": true }',
      `it's "quoted"`,
      '- item',
      '&anchor *alias',
      '!!binary aGk=',
      '\n  insecure-skip-tls-verify: true\n',
      'true',
      '0x1F',
      'null',
      '~'
    ].map((value): [string, string] => [JSON.stringify(value), value])

    it.each(hostile)(
      'round-trips the server URL with %s as the exact string without adding keys',
      (_label, value) => {
        const server = `https://127.0.0.1:6443/${value}`
        const config = roundTrip(
          buildKubeconfig(cluster({ server }), 'token', 'ns')
        )
        expect(config.clusters).toHaveLength(1)
        expect(config.clusters[0]?.cluster.server).toBe(server)
        expect(Object.keys(config.clusters[0]?.cluster ?? {}).sort()).toEqual([
          'certificate-authority-data',
          'server'
        ])
        expect(Object.keys(config).sort()).toEqual([
          'apiVersion',
          'clusters',
          'contexts',
          'current-context',
          'kind',
          'preferences',
          'users'
        ])
      }
    )

    it.each(hostile)(
      'round-trips the namespace and token %s as exact strings',
      (_label, value) => {
        const config = roundTrip(buildKubeconfig(cluster(), value, value))
        expect(config.users).toEqual([
          { name: ENTRY_NAME, user: { token: value } }
        ])
        expect(config.contexts).toEqual([
          {
            name: ENTRY_NAME,
            context: { cluster: ENTRY_NAME, user: ENTRY_NAME, namespace: value }
          }
        ])
        const kc = new KubeConfig()
        kc.loadFromString(
          serialiseKubeconfig(buildKubeconfig(cluster(), value, value))
        )
        expect(kc.getCurrentUser()?.token).toBe(value)
        expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(false)
      }
    )
  })

  describe('writeKubeconfig', () => {
    function mode(p: string): number {
      return fs.statSync(p).mode & 0o777
    }

    it('creates a 0700 directory and a 0600 file with the content', () => {
      const dir = newKubeconfigDir(temp)
      const file = writeKubeconfig(dir, 'content: 1\n')
      expect(file).toBe(path.join(dir, FILE_NAME))
      expect(mode(dir)).toBe(0o700)
      expect(mode(file)).toBe(0o600)
      expect(fs.readFileSync(file, 'utf8')).toBe('content: 1\n')
    })

    it('refuses a directory that already exists, with an ActionError', () => {
      const dir = newKubeconfigDir(temp)
      fs.mkdirSync(dir, { mode: 0o777 })
      expect(() => writeKubeconfig(dir, 'x')).toThrow(ActionError)
      expect(() => writeKubeconfig(dir, 'x')).toThrow(/EEXIST/)
      expect(fs.existsSync(path.join(dir, FILE_NAME))).toBe(false)
    })

    it('does not follow a planted file or symlink at the kubeconfig path', () => {
      const target = path.join(temp, 'elsewhere')
      const dir = path.join(temp, 'planted')
      fs.mkdirSync(dir)
      fs.symlinkSync(target, path.join(dir, FILE_NAME))
      expect(() => writeKubeconfig(dir, 'secret')).toThrow(ActionError)
      expect(fs.existsSync(target)).toBe(false)
    })

    it.each<[string, number]>([
      ['a permissive umask (000)', 0o000],
      ['the usual umask (022)', 0o022],
      ['a restrictive umask (077)', 0o077],
      ['a umask that removes every bit (777)', 0o777]
    ])('still gives 0700 and 0600 under %s', (_case, umask) => {
      process.umask(umask)
      const dir = newKubeconfigDir(temp)
      const file = writeKubeconfig(dir, 'content')
      process.umask(savedUmask)
      expect(mode(dir)).toBe(0o700)
      expect(mode(file)).toBe(0o600)
      expect(fs.readFileSync(file, 'utf8')).toBe('content')
    })

    it('explains an unwritable RUNNER_TEMP in one sentence', () => {
      const dir = path.join(temp, 'missing-parent', 'ephemeral-scan-token-x')
      expect(() => writeKubeconfig(dir, 'x')).toThrow(
        /^Could not write the kubeconfig under RUNNER_TEMP \(ENOENT\): [^\n]*\.$/
      )
    })
  })

  describe('newKubeconfigDir', () => {
    it('names a fresh, unpredictable directory directly under RUNNER_TEMP', () => {
      const a = newKubeconfigDir(temp)
      const b = newKubeconfigDir(temp)
      expect(path.dirname(a)).toBe(temp)
      expect(path.basename(a)).toMatch(/^ephemeral-scan-token-[0-9a-f]{24}$/)
      expect(a).not.toBe(b)
    })

    it("M1: puts the CLI's job scope into the name, and isOwnKubeconfigDir accepts only the same scope", () => {
      const cli = newKubeconfigDir(temp, 'cli-gitlab-7')
      expect(path.basename(cli)).toMatch(
        /^ephemeral-scan-token-cli-gitlab-7-[0-9a-f]{24}$/
      )
      expect(isOwnKubeconfigDir(cli, temp, 'cli-gitlab-7')).toBe(true)
      expect(isOwnKubeconfigDir(cli, temp, 'cli-gitlab-8')).toBe(false)
      expect(isOwnKubeconfigDir(cli, temp, 'cli')).toBe(false)
      expect(isOwnKubeconfigDir(cli, temp)).toBe(false)
      // The action's directory (no scope) is not the CLI's, and the other way round.
      const action = newKubeconfigDir(temp)
      expect(isOwnKubeconfigDir(action, temp)).toBe(true)
      expect(isOwnKubeconfigDir(action, temp, 'cli')).toBe(false)
      expect(
        isOwnKubeconfigDir(newKubeconfigDir(temp, 'cli'), temp, 'cli')
      ).toBe(true)
    })
  })

  describe('removeKubeconfigDir', () => {
    it('removes the directory and its file, then reports it already gone', () => {
      const dir = newKubeconfigDir(temp)
      writeKubeconfig(dir, 'x')
      expect(removeKubeconfigDir(dir)).toBe('removed')
      expect(fs.existsSync(dir)).toBe(false)
      expect(removeKubeconfigDir(dir)).toBe('gone')
    })

    it('leaves a link or a file in its place alone, and what a link points at', () => {
      const dir = newKubeconfigDir(temp)
      const victim = fs.mkdtempSync(path.join(temp, 'victim-'))
      fs.writeFileSync(path.join(victim, 'precious'), 'x')
      fs.symlinkSync(victim, dir)
      expect(removeKubeconfigDir(dir)).toBe('replaced')
      expect(fs.existsSync(path.join(victim, 'precious'))).toBe(true)
      fs.rmSync(dir)
      fs.writeFileSync(dir, 'x')
      expect(removeKubeconfigDir(dir)).toBe('replaced')
      expect(fs.existsSync(dir)).toBe(true)
    })
  })

  describe('requireRunnerTemp', () => {
    it('returns an existing absolute RUNNER_TEMP', () => {
      expect(requireRunnerTemp({ RUNNER_TEMP: temp })).toBe(temp)
    })

    it.each<[string, NodeJS.ProcessEnv, RegExp]>([
      ['unset', {}, /RUNNER_TEMP is not set/],
      ['empty', { RUNNER_TEMP: '' }, /RUNNER_TEMP is not set/],
      [
        'relative',
        { RUNNER_TEMP: 'tmp/runner' },
        /'tmp\/runner', which is not an existing absolute directory/
      ],
      [
        'missing',
        { RUNNER_TEMP: '/nonexistent/runner/temp' },
        /'\/nonexistent\/runner\/temp', which is not an existing absolute directory/
      ]
    ])('refuses a RUNNER_TEMP that is %s', (_case, env, message) => {
      expect(() => requireRunnerTemp(env)).toThrow(ActionError)
      expect(() => requireRunnerTemp(env)).toThrow(message)
    })

    it('reads process.env by default', () => {
      const saved = process.env.RUNNER_TEMP
      try {
        delete process.env.RUNNER_TEMP
        expect(() => requireRunnerTemp()).toThrow(/not set/)
        process.env.RUNNER_TEMP = temp
        expect(requireRunnerTemp()).toBe(temp)
      } finally {
        if (saved === undefined) delete process.env.RUNNER_TEMP
        else process.env.RUNNER_TEMP = saved
      }
    })
  })
})
