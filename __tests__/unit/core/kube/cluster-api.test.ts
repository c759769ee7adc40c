import { describe, expect, it } from '@jest/globals'
import { parseWarningHeader } from '../../../../src/core/kube/cluster-api.js'

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
})
