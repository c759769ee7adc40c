import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as yaml from 'js-yaml'
import {
  chooseSource,
  loadBootstrap,
  reloadBootstrap
} from '../../../../../src/core/kube/bootstrap/index.js'
import { pinBootstrap } from '../../../../../src/core/kube/bootstrap/kubeconfig.js'
import { InputError } from '../../../../../src/core/errors.js'
import { TestRunner } from '../../../../../__fixtures__/runner.js'

const SECRET = 'bootstrap-secret-token-value-1234567890'

function kubeconfig(
  change: (doc: Record<string, unknown>) => void = () => undefined
): string {
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c',
        cluster: {
          server: 'https://127.0.0.1:6443',
          'certificate-authority-data': 'Q0E='
        }
      }
    ],
    users: [{ name: 'u', user: { token: SECRET } }],
    contexts: [
      { name: 'ctx', context: { cluster: 'c', user: 'u' } },
      { name: 'other', context: { cluster: 'c', user: 'u' } }
    ],
    'current-context': 'ctx'
  }
  change(doc)
  return yaml.dump(doc)
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

let home: string
const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG }

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'est-boot-'))
  process.env.HOME = home
  delete process.env.KUBECONFIG
})

afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true })
  process.env.HOME = saved.HOME
  if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG
  else process.env.KUBECONFIG = saved.KUBECONFIG
})

describe('bootstrap/ (kubeconfig kinds) chooseSource', () => {
  it('prefers the kubeconfig input over KUBECONFIG', () => {
    expect(chooseSource('apiVersion: v1', { KUBECONFIG: '/a' })).toEqual({
      kind: 'input'
    })
  })

  it('uses every file KUBECONFIG lists, in order', () => {
    expect(chooseSource('', { KUBECONFIG: '/a:/b:' })).toEqual({
      kind: 'files',
      paths: ['/a', '/b']
    })
  })

  it('falls back to ~/.kube/config', () => {
    const file = path.join(home, '.kube', 'config')
    fs.mkdirSync(path.dirname(file))
    fs.writeFileSync(file, kubeconfig())
    expect(chooseSource('', { HOME: home })).toEqual({
      kind: 'files',
      paths: [file]
    })
  })

  it('says how to provide a credential when there is none', () => {
    const error = thrown(() => chooseSource('', { HOME: home }))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain("set the 'kubeconfig' input")
  })

  it("refuses an earlier use's own kubeconfig as the bootstrap", () => {
    const own = `/tmp/runner/ephemeral-scan-token-${'ab'.repeat(12)}/kubeconfig`
    const error = thrown(() => chooseSource('', { KUBECONFIG: own }))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain(
      "pass the bootstrap kubeconfig in the 'kubeconfig' input"
    )
  })
})

describe('bootstrap/ (kubeconfig kinds) loadBootstrap', () => {
  const input = { source: { kind: 'input' as const }, context: '' }

  it('loads the current context of valid content', () => {
    const kc = loadBootstrap(input, kubeconfig())
    expect(kc.getCurrentContext()).toBe('ctx')
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443')
  })

  it('switches to the named context', () => {
    const kc = loadBootstrap({ ...input, context: 'other' }, kubeconfig())
    expect(kc.getCurrentContext()).toBe('other')
  })

  it('names the missing context and the ones that exist', () => {
    const error = thrown(() =>
      loadBootstrap({ ...input, context: 'nope' }, kubeconfig())
    )
    expect(error.message).toBe(
      "Input 'context' names a context that the 'kubeconfig' input does not have: set 'context' to the name of one of its contexts."
    )
    expect(error.message).not.toMatch(/nope|ctx|other/)
  })

  it('reports bad YAML by line number without echoing the content', () => {
    const broken = `${kubeconfig()}\n  bad: [unclosed ${SECRET}\n`
    const error = thrown(() => loadBootstrap(input, broken))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toMatch(/is not valid YAML \(line \d+\)/)
    expect(error.message).not.toContain(SECRET)
  })

  it('refuses content with no contexts', () => {
    const error = thrown(() => loadBootstrap(input, 'just: text'))
    expect(error.message).toContain('contains no contexts')
  })

  it('refuses a cluster that skips TLS verification', () => {
    const insecure = kubeconfig((doc) => {
      doc.clusters = [
        {
          name: 'c',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'insecure-skip-tls-verify': true
          }
        }
      ]
    })
    const error = thrown(() => loadBootstrap(input, insecure))
    expect(error.message).toContain('insecure-skip-tls-verify')
    expect(error.message).toContain('certificate-authority-data')
  })

  it('asks for a context when there is no current-context', () => {
    const none = kubeconfig((doc) => {
      delete doc['current-context']
    })
    const error = thrown(() => loadBootstrap(input, none))
    expect(error.message).toContain("set the 'context' input")
  })

  it('names an unreadable kubeconfig file', () => {
    const error = thrown(() =>
      loadBootstrap(
        {
          source: { kind: 'files', paths: ['/nonexistent/kubeconfig'] },
          context: ''
        },
        ''
      )
    )
    expect(error.message).toContain(
      '/nonexistent/kubeconfig cannot be read (ENOENT)'
    )
  })

  it('refuses to run with NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
    try {
      const error = thrown(() => loadBootstrap(input, kubeconfig()))
      expect(error.message).toContain('NODE_TLS_REJECT_UNAUTHORIZED=0')
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
    }
  })

  it('says the certificate-authority file does not exist, without its path, before any network call', () => {
    const withFile = kubeconfig((doc) => {
      doc.clusters = [
        {
          name: 'c',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority': '/nonexistent/ca.crt'
          }
        }
      ]
    })
    const error = thrown(() => loadBootstrap(input, withFile))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain(
      "The certificate-authority file named in the 'kubeconfig' input does not exist"
    )
    expect(error.message).not.toContain('/nonexistent/ca.crt')
  })
})

describe('bootstrap/ (kubeconfig kinds) pin and reload (post)', () => {
  const input = { source: { kind: 'input' as const }, context: '' }

  it('pins the context and server main used', () => {
    const kc = loadBootstrap(input, kubeconfig())
    expect(pinBootstrap(input, kc)).toEqual({
      source: { kind: 'input' },
      context: 'ctx',
      server: 'https://127.0.0.1:6443'
    })
  })

  it('refuses to clean up on another server than the one main used', () => {
    const pinned = { ...input, context: 'ctx', server: 'https://10.0.0.1:6443' }
    const error = thrown(() => reloadBootstrap(pinned, kubeconfig()))
    expect(error.message).toContain(
      'no longer points at the API server where the token was minted'
    )
    expect(error.message).not.toContain('10.0.0.1')
  })
})

describe('bootstrap/ (kubeconfig kinds) refuses what would resolve against the workspace (F12)', () => {
  const input = { source: { kind: 'input' as const }, context: '' }
  const savedWorkspace = process.env.GITHUB_WORKSPACE

  afterEach(() => {
    if (savedWorkspace === undefined) delete process.env.GITHUB_WORKSPACE
    else process.env.GITHUB_WORKSPACE = savedWorkspace
  })

  const withUser = (user: Record<string, unknown>): string =>
    kubeconfig((doc) => {
      doc.users = [{ name: 'u', user }]
    })

  it.each<[string, string, Record<string, unknown>, string]>([
    [
      'a relative certificate-authority',
      'certificate-authority',
      {},
      'embed certificate-authority-data instead'
    ],
    [
      'a relative client-key',
      'client-key',
      { 'client-certificate-data': 'Q0E=', 'client-key': 'keys/ci.key' },
      'embed client-key-data instead'
    ],
    [
      'a relative token-file',
      'token-file',
      { 'token-file': 'token' },
      'embed the token as token instead'
    ],
    [
      'a relative exec command',
      'exec command',
      { exec: { command: './bin/get-token', apiVersion: 'v1' } },
      'name the command by an absolute path outside the workspace'
    ]
  ])(
    'refuses %s in the input, naming the field and the fix',
    (_name, field, user, fix) => {
      const content = kubeconfig((doc) => {
        doc.users = [{ name: 'u', user: { token: SECRET, ...user } }]
        if (field === 'certificate-authority') {
          doc.clusters = [
            {
              name: 'c',
              cluster: {
                server: 'https://127.0.0.1:6443',
                'certificate-authority': 'ca.crt'
              }
            }
          ]
        }
      })
      const error = thrown(() => loadBootstrap(input, content))
      expect(error).toBeInstanceOf(InputError)
      expect(error.message).toContain(`the 'kubeconfig' input`)
      expect(error.message).toContain(field)
      expect(error.message).toContain('by a relative path')
      expect(error.message).toContain('a pull request can change')
      expect(error.message).toContain(fix)
      expect(error.message).not.toContain(SECRET)
    }
  )

  it('refuses an absolute path inside GITHUB_WORKSPACE', () => {
    process.env.GITHUB_WORKSPACE = home
    const error = thrown(() =>
      loadBootstrap(
        input,
        withUser({
          exec: { command: path.join(home, 'plugin'), apiVersion: 'v1' }
        })
      )
    )
    expect(error.message).toContain(
      "The entry users[0] in the 'kubeconfig' input runs its exec command"
    )
    expect(error.message).toContain('inside the checked-out workspace')
  })

  it('accepts an exec command found on PATH and absolute paths outside the workspace', () => {
    process.env.GITHUB_WORKSPACE = path.join(home, 'workspace')
    const tokenFile = path.join(home, 'outside-token')
    fs.writeFileSync(tokenFile, 'token-from-file')
    const kc = loadBootstrap(
      input,
      withUser({
        exec: { command: 'aws', args: ['eks', 'get-token'], apiVersion: 'v1' },
        'token-file': tokenFile
      })
    )
    expect(kc.getCurrentUser()?.exec).toMatchObject({ command: 'aws' })
    expect(kc.getCurrentUser()?.token).toBe('token-from-file')
  })

  it('resolves a kubeconfig file’s relative certificate-authority against the file, as kubectl does', () => {
    const dir = path.join(home, 'kube')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'CA')
    const file = path.join(dir, 'config')
    fs.writeFileSync(
      file,
      kubeconfig((doc) => {
        doc.clusters = [
          {
            name: 'c',
            cluster: {
              server: 'https://127.0.0.1:6443',
              'certificate-authority': 'ca.crt'
            }
          }
        ]
      })
    )
    const kc = loadBootstrap(
      { source: { kind: 'files', paths: [file] }, context: '' },
      ''
    )
    expect(kc.getCurrentCluster()?.caFile).toBe(path.join(dir, 'ca.crt'))
  })

  it('refuses a kubeconfig file’s relative token-file, which client-node would read from the working directory', () => {
    const file = path.join(home, 'config')
    fs.writeFileSync(file, withUser({ 'token-file': 'token' }))
    const error = thrown(() =>
      loadBootstrap(
        { source: { kind: 'files', paths: [file] }, context: '' },
        ''
      )
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toBe(
      `The entry users[0] in the kubeconfig file ${file} names its token-file by a relative path, which this action's Kubernetes client would resolve against the working directory (the checked-out workspace), not the kubeconfig's own directory as kubectl does: use an absolute path.`
    )
  })
})

describe('bootstrap/ (kubeconfig kinds) refuses credentials in URLs (F2)', () => {
  const input = { source: { kind: 'input' as const }, context: '' }

  it.each([
    ['proxy-url', 'http://proxyuser:proxy-pass-9f8e7d@127.0.0.1:3128'],
    ['server', 'https://admin:server-pass-9f8e7d@127.0.0.1:6443']
  ])(
    'refuses a %s with a user name or password, without repeating it',
    (field, url) => {
      const content = kubeconfig((doc) => {
        doc.clusters = [
          {
            name: 'c',
            cluster: {
              server: 'https://127.0.0.1:6443',
              'certificate-authority-data': 'Q0E=',
              [field]: url
            }
          }
        ]
      })
      const error = thrown(() => loadBootstrap(input, content))
      expect(error).toBeInstanceOf(InputError)
      expect(error.message).toBe(
        `The cluster of the context in use in the 'kubeconfig' input has a user name or password in its ${field}, which this action would have to copy into the scanner's kubeconfig: use a ${field} without credentials in it.`
      )
    }
  )

  it('masks a token given as the user part of a proxy-url', () => {
    const runner = new TestRunner()
    try {
      const content = kubeconfig((doc) => {
        doc.clusters = [
          {
            name: 'c',
            cluster: {
              server: 'https://127.0.0.1:6443',
              'certificate-authority-data': 'Q0E=',
              'proxy-url': 'http://proxytoken-77c1e0@127.0.0.1:3128'
            }
          }
        ]
      })
      expect(thrown(() => loadBootstrap(input, content))).toBeInstanceOf(
        InputError
      )
      expect(runner.commands('add-mask')).toContain(
        '::add-mask::proxytoken-77c1e0'
      )
    } finally {
      runner.restore()
    }
  })

  it('keeps a proxy-url without credentials', () => {
    const content = kubeconfig((doc) => {
      doc.clusters = [
        {
          name: 'c',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'proxy-url': 'http://127.0.0.1:3128'
          }
        }
      ]
    })
    expect(loadBootstrap(input, content).getCurrentCluster()?.proxyUrl).toBe(
      'http://127.0.0.1:3128'
    )
  })
})

describe('bootstrap/ (kubeconfig kinds) sends credentials only over TLS (R2)', () => {
  const input = { source: { kind: 'input' as const }, context: '' }

  function withServer(server: string, proxyUrl?: string): string {
    return kubeconfig((doc) => {
      doc.clusters = [
        {
          name: 'c',
          cluster: {
            server,
            'certificate-authority-data': 'Q0E=',
            ...(proxyUrl ? { 'proxy-url': proxyUrl } : {})
          }
        }
      ]
    })
  }

  it.each([
    ['an http:// server', 'http://10.255.0.1:8080/secret-path-9f8e', undefined],
    [
      'an http:// server behind a proxy-url',
      'http://10.255.0.1:8080/secret-path-9f8e',
      'http://127.0.0.1:3128'
    ]
  ])(
    'refuses %s before any call, naming only the scheme',
    (_what, server, proxy) => {
      const error = thrown(() =>
        loadBootstrap(input, withServer(server, proxy))
      )
      expect(error).toBeInstanceOf(InputError)
      expect(error.message).toBe(
        "The server of the cluster in use in the 'kubeconfig' input is not an https:// URL (its scheme is 'http'), and this action sends credentials only over TLS: set the cluster's server to the API server's https:// address."
      )
      expect(error.message).not.toContain('10.255.0.1')
      expect(error.message).not.toContain('secret-path')
    }
  )

  it.each(['HTTPS://127.0.0.1:6443', ' https://127.0.0.1:6443'])(
    'refuses %p, which the URL parser would pass but post and the client refuse (review F5)',
    (server) => {
      const error = thrown(() => loadBootstrap(input, withServer(server)))
      expect(error).toBeInstanceOf(InputError)
      expect(error.message).toContain(
        "(it does not start with exactly 'https://')"
      )
    }
  )

  it('refuses a server that is not a URL without quoting it', () => {
    const error = thrown(() =>
      loadBootstrap(input, withServer('not a url token=abc123'))
    )
    expect(error.message).toContain('is not an https:// URL (it is not a URL)')
    expect(error.message).not.toContain('abc123')
  })

  it('refuses the same in post, when the kubeconfig is loaded again', () => {
    const pinned = {
      ...input,
      context: 'ctx',
      server: 'http://10.255.0.1:8080'
    }
    const error = thrown(() =>
      reloadBootstrap(pinned, withServer('http://10.255.0.1:8080'))
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toContain('is not an https:// URL')
  })

  it('refuses to reload without a saved server (a record post cannot pin)', () => {
    const error = thrown(() =>
      reloadBootstrap({ ...input, context: 'ctx' }, kubeconfig())
    )
    expect(error.message).toContain('no longer points at the API server')
  })
})
