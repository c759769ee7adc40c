/**
 * Property tests (fast-check) over the can-i line parser: any line is either
 * one InputError sentence naming the input and the line, or a check whose
 * fields mean exactly one access review; and lines written the documented
 * way read back as what they say, whatever the spacing and option order.
 */
import { describe, expect, it } from '@jest/globals'
import * as fc from 'fast-check'
import { InputError } from '../../../../src/core/errors.js'
import { isDnsLabel } from '../../../../src/core/kube/formats.js'
import {
  describeCheck,
  parseCheck,
  parseChecks,
  SUBRESOURCES
} from '../../../../src/core/proof/can-i-lines.js'

const INPUT = fc.constantFrom('expect-allowed', 'expect-denied')
// eslint-disable-next-line no-control-regex -- control characters are what we look for
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** Words the parser cares about, mixed with arbitrary text. */
const word = fc.oneof(
  fc.constantFrom(
    'get',
    'list',
    'create',
    '*',
    'impersonate',
    'pods',
    'pods/exec',
    'pods/p1',
    'secrets',
    'deploy',
    'daemonset.apps',
    'uids',
    'userextras/scopes',
    '*/exec',
    '/healthz',
    '-n',
    '--namespace',
    '--namespace=x',
    '-A',
    '--all-namespaces',
    '--subresource=exec',
    '--subresource=',
    'a/b/c',
    'Pods',
    'x.v1.apps'
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
  // A known type or a URL with arbitrary text after it: names and paths.
  fc
    .tuple(
      fc.constantFrom('pods/', 'users/', 'userextras/', '/'),
      fc
        .array(
          fc.oneof(
            fc.constantFrom('\u001b[31m', '\u0007', '\r', '\u0085', '\u000e'),
            fc.string({ unit: 'binary', maxLength: 4 })
          ),
          { maxLength: 3 }
        )
        .map((parts) => parts.join(''))
    )
    .map(([head, tail]) => `${head}${tail}`)
)
const line = fc.oneof(
  fc.array(word, { maxLength: 6 }).chain((words) =>
    fc
      .array(fc.constantFrom(' ', '  ', '\t', '\u00a0', '\u2028'), {
        minLength: words.length,
        maxLength: words.length
      })
      .map((gaps) => words.map((w, i) => `${w}${gaps[i] ?? ' '}`).join(''))
  ),
  fc.string({ unit: 'binary', maxLength: 60 })
)

describe('can-i-lines.ts under arbitrary lines (fast-check)', () => {
  it('gives one InputError sentence or a check that means one access review', () => {
    fc.assert(
      fc.property(INPUT, line, (input, raw) => {
        const text = raw.replace(/\n/g, ' ')
        let check
        try {
          check = parseCheck(input, text, 'scan')
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
          const message = (error as Error).message
          expect(message.startsWith(`Input '${input}' has the line '`)).toBe(
            true
          )
          expect(message).not.toMatch(UNPRINTABLE)
          expect(message).toMatch(/\.$/)
          return
        }
        expect(check.input).toBe(input)
        expect(check.verb).toMatch(/^([a-z]+|\*)$/)
        if (check.path !== '') {
          expect(check.path.startsWith('/')).toBe(true)
          expect(check.resource).toBe('')
        } else {
          expect(check.resource).toMatch(/^([a-z][a-z0-9-]*|\*)$/)
          expect(check.group).toMatch(/^([a-z0-9-]+(\.[a-z0-9-]+)*)?$/)
          expect(check.name).not.toMatch(/[\s/]/)
        }
        if (check.namespace !== '')
          expect(isDnsLabel(check.namespace)).toBe(true)
        if (check.clusterScoped) expect(check.namespace).toBe('')
        if (input === 'expect-denied') {
          expect(check.verb).not.toBe('*')
          expect(check.resource).not.toBe('*')
        }
        // What the log and summary show is one printable line.
        expect(describeCheck(check)).not.toMatch(UNPRINTABLE)
      }),
      { numRuns: 4000 }
    )
  })

  /** A check written the documented way, and what it must read back as. */
  const documented = fc.record({
    verb: fc.constantFrom('get', 'list', 'watch', 'create', 'patch', 'delete'),
    // [as written, resource, group, cluster-scoped]
    type: fc.constantFrom<[string, string, string, boolean]>(
      ['pods', 'pods', '', false],
      ['po', 'pods', '', false],
      ['secrets', 'secrets', '', false],
      ['deploy', 'deployments', 'apps', false],
      ['deployments.apps', 'deployments', 'apps', false],
      ['cronjobs', 'cronjobs', 'batch', false],
      ['nodes', 'nodes', '', true],
      ['clusterroles', 'clusterroles', 'rbac.authorization.k8s.io', true],
      ['widgets.example.com', 'widgets', 'example.com', false]
    ),
    target: fc.oneof(
      fc.constant({ kind: 'plain' as const }),
      fc.constantFrom('exec', 'log', 'status', 'proxy').map((sub) => ({
        kind: 'sub' as const,
        sub
      })),
      fc
        .tuple(
          fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
          fc.option(fc.constantFrom('exec', 'log'), { nil: undefined })
        )
        .filter(([name]) => !SUBRESOURCES.has(name))
        .map(([name, sub]) => ({ kind: 'named' as const, name, sub }))
    ),
    scope: fc.oneof(
      fc.constant({ kind: 'default' as const }),
      fc.constant({ kind: 'all' as const, flag: '-A' }),
      fc.constant({ kind: 'all' as const, flag: '--all-namespaces' }),
      fc
        .tuple(
          fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/),
          fc.constantFrom('-n ', '--namespace ', '--namespace=')
        )
        .map(([ns, flag]) => ({ kind: 'ns' as const, ns, flag }))
    ),
    gaps: fc.array(fc.constantFrom(' ', '   ', '\t', ' \t '), {
      minLength: 6,
      maxLength: 6
    }),
    optionsFirst: fc.boolean()
  })

  it('reads a documented line back as exactly what it says, whatever the spacing and order', () => {
    fc.assert(
      fc.property(
        documented,
        ({ verb, type, target, scope, gaps, optionsFirst }) => {
          const [typeWord, resource, group, clusterScoped] = type
          let targetWord: string = typeWord
          const options: string[] = []
          let subresource = ''
          let name = ''
          if (target.kind === 'sub') {
            targetWord = `${typeWord}/${target.sub}`
            subresource = target.sub
          } else if (target.kind === 'named') {
            targetWord = `${typeWord}/${target.name}`
            name = target.name
            if (target.sub) {
              options.push(`--subresource=${target.sub}`)
              subresource = target.sub
            }
          }
          let namespace = clusterScoped ? '' : 'scan'
          if (scope.kind === 'all') {
            options.push(scope.flag)
            namespace = ''
          } else if (scope.kind === 'ns') {
            options.push(`${scope.flag}${scope.ns}`)
            if (!clusterScoped) namespace = scope.ns
          }
          const words = optionsFirst
            ? [...options, verb, targetWord]
            : [verb, ...options, targetWord]
          const text = words.map((w, i) => `${gaps[i] ?? ' '}${w}`).join('')
          const [check] = parseChecks('expect-allowed', `${text}\n`, 'scan')
          expect(check).toMatchObject({
            line: text.trim(),
            verb,
            resource,
            group,
            subresource,
            name,
            namespace,
            clusterScoped,
            path: ''
          })
        }
      ),
      { numRuns: 3000 }
    )
  })
})
