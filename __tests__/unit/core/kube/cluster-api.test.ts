import { describe, expect, it } from '@jest/globals'
import { KubeConfig } from '@kubernetes/client-node'
import {
  connect,
  parseWarningHeader
} from '../../../../src/core/kube/cluster-api.js'
import type { Bootstrap } from '../../../../src/core/kube/bootstrap/kind.js'

describe('cluster-api.ts', () => {
  describe('parseWarningHeader', () => {
    it.each<[string | undefined, string[]]>([
      [undefined, []],
      ['', []],
      [
        '299 - "requested expiration of 86400 seconds shortened to 3607 seconds"',
        ['requested expiration of 86400 seconds shortened to 3607 seconds']
      ],
      ['299 - "first", 299 - "second"', ['first', 'second']],
      ['299 - "a, b", 299 kube-apiserver "c"', ['a, b', 'c']],
      ['299 - "say \\"hi\\" \\\\ bye"', ['say "hi" \\ bye']],
      ['299 - "dated" "Sat, 22 Nov 2025 22:00:00 GMT"', ['dated']],
      ['not a warning header', []]
    ])('reads %p as %p', (header, texts) => {
      expect(parseWarningHeader(header)).toEqual(texts)
    })
  })

  describe('connect (unit, no request sent)', () => {
    it('keeps the bootstrap kubeconfig, and so its credential, off the call object (review finding)', () => {
      const kc = new KubeConfig()
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
        users: [{ name: 'u', token: 'bootstrap-credential-do-not-print' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x'
      })
      const wording = { caGoesIn: 'the kubeconfig' }
      const bootstrap = {
        ref: { source: { kind: 'stored' }, context: 'x' },
        kc,
        describe: () => "the 'kubeconfig' input",
        wording
      } as unknown as Bootstrap
      const api = connect(kc, undefined, bootstrap)
      expect(api.bootstrap?.describe()).toBe("the 'kubeconfig' input")
      expect(api.bootstrap?.wording).toBe(wording)
      expect(Object.keys(api.bootstrap ?? {}).sort()).toEqual([
        'describe',
        'wording'
      ])
      expect(JSON.stringify(api)).not.toContain('bootstrap-credential')
    })
  })
})
