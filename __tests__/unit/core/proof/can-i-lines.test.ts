import { describe, expect, it } from '@jest/globals'
import {
  confirmChecks,
  describeCheck,
  parseCheck,
  parseChecks
} from '../../../../src/core/proof/can-i-lines.js'
import type { Served } from '../../../../src/core/kube/token-api.js'
import { ActionError, InputError, quoted } from '../../../../src/core/errors.js'

describe('can-i-lines.ts', () => {
  it.each([
    [
      'create pods/exec -n scan-target',
      {
        verb: 'create',
        resource: 'pods',
        subresource: 'exec',
        name: '',
        namespace: 'scan-target',
        group: ''
      }
    ],
    [
      'get secrets',
      {
        verb: 'get',
        resource: 'secrets',
        subresource: '',
        name: '',
        namespace: 'scan',
        group: ''
      }
    ],
    [
      'list pods -n kube-system',
      { verb: 'list', resource: 'pods', namespace: 'kube-system' }
    ],
    [
      'get pods/app-pod-1',
      { resource: 'pods', name: 'app-pod-1', subresource: '' }
    ],
    [
      'create pods/app-pod-1 --subresource=exec',
      { resource: 'pods', name: 'app-pod-1', subresource: 'exec' }
    ],
    ['list secrets --all-namespaces', { resource: 'secrets', namespace: '' }],
    ['list secrets -A', { resource: 'secrets', namespace: '' }],
    ['list nodes', { resource: 'nodes', namespace: '' }],
    ['create deployments', { resource: 'deployments', group: 'apps' }],
    ['create deploy', { resource: 'deployments', group: 'apps' }],
    [
      'create widgets.example.com',
      { resource: 'widgets', group: 'example.com' }
    ],
    [
      'get nodes/proxy',
      { resource: 'nodes', subresource: 'proxy', namespace: '' }
    ],
    // kubectl's resourceFor("*") keeps the core group; so do we.
    ['* *', { verb: '*', resource: '*', group: '' }],
    // Impersonation targets live in authentication.k8s.io, cluster-wide.
    [
      'impersonate uids',
      { resource: 'uids', group: 'authentication.k8s.io', namespace: '' }
    ],
    [
      'impersonate userextras/scopes',
      {
        resource: 'userextras',
        group: 'authentication.k8s.io',
        subresource: 'scopes',
        name: '',
        namespace: ''
      }
    ],
    ['impersonate users', { resource: 'users', group: '', namespace: '' }],
    ['get /healthz', { verb: 'get', path: '/healthz', resource: '' }],
    ['list pods --namespace=other', { namespace: 'other' }]
  ])(
    // kubectl's words, except that TYPE/X with a well-known subresource X is
    // read RBAC's way (pods/exec), as the README and docs/proof.md document;
    // kubectl itself would read X as an object name.
    'reads %p as documented',
    (line, expected) => {
      expect(parseCheck('expect-allowed', line, 'scan')).toMatchObject(expected)
    }
  )

  it.each([
    ['get', 'needs a verb and a resource'],
    ['get pods extra', "has extra words 'extra'"],
    ['get pods -n', "has '-n' without a namespace"],
    ['get pods --output=yaml', "has the unknown option '--output=yaml'"],
    ['GET pods', 'not a Kubernetes verb'],
    ['get pods -n a -A', 'both -n and --all-namespaces'],
    ['get a/b/c', "too many '/' parts"],
    ['get Secrets', 'not a lowercase resource name'],
    ['get hpa', "write other resources as 'plural.group'"],
    ['list deployments.v1.apps', 'without the version'],
    ['get secrets,configmaps', 'not a lowercase resource name'],
    ['get pods -n --all-namespaces', 'not a valid namespace name'],
    ['get pods --namespace=', 'not a valid namespace name'],
    ['get pods -n Bad_NS', 'not a valid namespace name'],
    ['create pods/p --subresource=Exec', 'not a subresource name'],
    // Found by the property test: a terminal escape in a name would reach the log.
    [
      'get pods/\u001b[31mred',
      "has 'pods/\\u001b[31mred', which holds a control character"
    ]
  ])(
    'rejects %p with a sentence naming the input and the line',
    (line, problem) => {
      let caught: unknown
      try {
        parseCheck('expect-denied', line, 'scan')
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InputError)
      const message = (caught as Error).message
      expect(message).toContain(
        `Input 'expect-denied' has the line ${quoted(line)}`
      )
      expect(message).toContain(problem)
      expect(message).not.toContain('\n')
    }
  )

  it.each(['* *', '* secrets', 'get *', 'create */exec', '* pods -A'])(
    "refuses the wildcard line %p in 'expect-denied', which would pass vacuously",
    (line) => {
      let caught: unknown
      try {
        parseCheck('expect-denied', line, 'scan')
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InputError)
      expect((caught as Error).message).toContain(
        `Input 'expect-denied' has the line '${line}', which uses a wildcard`
      )
      // The same line is a strict (and allowed) 'expect-allowed' check.
      expect(() => parseCheck('expect-allowed', line, 'scan')).not.toThrow()
    }
  )

  it.each<[string, boolean]>([
    ['create deployments.apps', false],
    ['create deploy', false],
    ['get pods/exec', false],
    ['impersonate userextras/scopes', false],
    ['get /healthz', false],
    ['create daemonset.apps', true],
    ['get secrets.core', true],
    ['list horizontalpodautoscalers.autoscaling', true],
    ['get secrets/exec', true],
    ['get clusterissuers.cert-manager.io', true]
  ])(
    'knows without discovery whether %p is real: needsDiscovery %p',
    (line, needed) => {
      expect(parseCheck('expect-denied', line, 'scan').needsDiscovery).toBe(
        needed
      )
    }
  )

  it('parses one check per line and skips blanks and comments', () => {
    const checks = parseChecks(
      'expect-allowed',
      'get pods\n\n  # a comment\nlist pods -n x\n',
      'scan'
    )
    expect(checks.map((c) => c.line)).toEqual(['get pods', 'list pods -n x'])
  })

  it('describes each check as it was interpreted', () => {
    expect(
      describeCheck(parseCheck('i', 'create pods/exec -n t', 'scan'))
    ).toBe('create pods/exec in namespace t')
    expect(
      describeCheck(
        parseCheck('i', 'create pods/p1 --subresource=exec', 'scan')
      )
    ).toBe('create pods/exec named p1 in namespace scan')
    expect(describeCheck(parseCheck('i', 'list secrets -A', 'scan'))).toBe(
      'list secrets in all namespaces'
    )
    expect(describeCheck(parseCheck('i', 'list nodes', 'scan'))).toBe(
      'list nodes (cluster-scoped)'
    )
    expect(describeCheck(parseCheck('i', 'create deploy', 'scan'))).toBe(
      'create deployments.apps in namespace scan'
    )
  })

  describe('confirmChecks (discovery)', () => {
    const served: Record<string, Served[]> = {
      '': [
        { name: 'pods', namespaced: true, singularName: 'pod' },
        { name: 'pods/exec', namespaced: true },
        { name: 'secrets', namespaced: true, singularName: 'secret' }
      ],
      apps: [
        {
          name: 'daemonsets',
          namespaced: true,
          singularName: 'daemonset',
          shortNames: ['ds']
        },
        { name: 'daemonsets/status', namespaced: true },
        { name: 'deployments', namespaced: true }
      ],
      'cert-manager.io': [
        { name: 'clusterissuers', namespaced: false },
        { name: 'issuers', namespaced: true }
      ]
    }
    const asked: string[] = []
    const discover = async (group: string): Promise<Served[] | undefined> => {
      asked.push(group)
      return served[group]
    }

    async function confirmed(line: string): Promise<unknown> {
      try {
        const [check] = await confirmChecks(
          [parseCheck('expect-denied', line, 'scan')],
          discover
        )
        return check
      } catch (error) {
        return error
      }
    }

    it('resolves a singular name to the plural the server serves, as kubectl does', async () => {
      expect(await confirmed('create daemonset.apps')).toMatchObject({
        resource: 'daemonsets',
        group: 'apps',
        namespace: 'scan',
        needsDiscovery: false
      })
    })

    it('checks a cluster-scoped custom resource cluster-wide, not in a namespace', async () => {
      const check = await confirmed('get clusterissuers.cert-manager.io -n x')
      expect(check).toMatchObject({ namespace: '', clusterScoped: true })
      expect(describeCheck(check as never)).toBe(
        'get clusterissuers.cert-manager.io (cluster-scoped)'
      )
    })

    it.each<[string, string]>([
      [
        'create daemonsetz.apps',
        "but the API group 'apps' has no resource 'daemonsetz' (it has: daemonsets, deployments)"
      ],
      ['get secrets.core', "but the API server serves no API group 'core'"],
      [
        'get secrets/exec',
        "but 'secrets' has no subresource 'exec' (it has: none)"
      ],
      [
        'patch daemonsets.apps --subresource=scale',
        "but 'daemonsets' has no subresource 'scale' (it has: status)"
      ]
    ])('refuses %p, which would always be denied', async (line, problem) => {
      const error = await confirmed(line)
      expect(error).toBeInstanceOf(ActionError)
      expect((error as Error).message).toBe(
        `Input 'expect-denied' has the line '${line}', ${problem}: fix the line, since a check of something the server does not serve is always 'denied'.`
      )
    })

    it('asks discovery once per group, and never for what the tables know', async () => {
      asked.length = 0
      await confirmChecks(
        parseChecks(
          'expect-denied',
          'create daemonset.apps\nget ds.apps -n x\nget deployments.apps\nget pods',
          'scan'
        ),
        discover
      )
      expect(asked).toEqual(['apps'])
    })
  })
})
