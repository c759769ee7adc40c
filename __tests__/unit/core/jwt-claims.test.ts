import { describe, expect, it } from '@jest/globals'
import { ActionError } from '../../../src/core/errors.js'
import { decodeClaims } from '../../../src/core/jwt-claims.js'
import { fakeJwt, serviceAccountToken } from '../../../__fixtures__/tokens.js'

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url')
}

describe('jwt-claims.ts', () => {
  it('reads jti, iat and exp from a ServiceAccount token', () => {
    const minted = serviceAccountToken('scans', 'scanner', 3600)
    expect(decodeClaims(minted.token)).toEqual({
      jti: minted.jti,
      iat: minted.iat,
      exp: minted.exp
    })
  })

  it('leaves out claims that are missing or of the wrong type', () => {
    const token = fakeJwt({
      jti: 42,
      sub: ['x'],
      iat: '1700000000',
      exp: null
    } as never)
    expect(decodeClaims(token)).toEqual({
      jti: undefined,
      iat: undefined,
      exp: undefined
    })
  })

  it('reads the Secret a bound token is tied to, and only a complete one', () => {
    const bound = fakeJwt({
      'kubernetes.io': {
        namespace: 'scans',
        secret: { name: 'ephemeral-scan-token-1-1-aa', uid: 'uid-7' },
        serviceaccount: { name: 'scanner', uid: 'uid-1' }
      }
    })
    expect(decodeClaims(bound).boundSecret).toEqual({
      name: 'ephemeral-scan-token-1-1-aa',
      uid: 'uid-7'
    })
    const nameOnly = fakeJwt({ 'kubernetes.io': { secret: { name: 'x' } } })
    expect(decodeClaims(nameOnly).boundSecret).toBeUndefined()
    expect(
      decodeClaims(serviceAccountToken('scans', 'scanner', 600).token)
        .boundSecret
    ).toBeUndefined()
  })

  it('decodes base64url payloads that use - and _', () => {
    // '>>>' and '???' encode to '-' and '_' in base64url.
    const token = `${b64url('{}')}.${b64url(JSON.stringify({ jti: '>>>???', iat: 1 }))}.sig`
    expect(b64url(JSON.stringify({ jti: '>>>???', iat: 1 }))).toMatch(/[-_]/)
    expect(decodeClaims(token).jti).toBe('>>>???')
  })

  it.each<[string, string, RegExp]>([
    ['two parts', 'aaa.bbb', /not a JWT/],
    ['four parts', 'a.b.c.d', /not a JWT/],
    ['an opaque string', 'opaque-token', /not a JWT/],
    [
      'claims that are not base64url JSON',
      'aaa.%%%.bbb',
      /cannot be read as JSON/
    ],
    [
      'claims that are JSON text but not an object',
      `aaa.${b64url('not json')}.bbb`,
      /cannot be read as JSON/
    ]
  ])('refuses a token with %s, without quoting it', (_case, token, message) => {
    let caught: unknown
    try {
      decodeClaims(token)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ActionError)
    expect((caught as Error).message).toMatch(message)
    expect((caught as Error).message).not.toContain(token)
  })
})
