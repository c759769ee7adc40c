import { describe, expect, it } from '@jest/globals'
import {
  describeCheck,
  parseCheck,
  parseChecks
} from '../../../src/proof/can-i-lines.js'
import { InputError } from '../../../src/errors.js'

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
    ['* *', { verb: '*', resource: '*' }],
    ['get /healthz', { verb: 'get', path: '/healthz', resource: '' }],
    ['list pods --namespace=other', { namespace: 'other' }]
  ])('reads %p as kubectl auth can-i would', (line, expected) => {
    expect(parseCheck('expect-allowed', line, 'scan')).toMatchObject(expected)
  })

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
    ['create pods/p --subresource=Exec', 'not a subresource name']
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
      expect(message).toContain(`Input 'expect-denied' has the line '${line}'`)
      expect(message).toContain(problem)
      expect(message).not.toContain('\n')
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
})
