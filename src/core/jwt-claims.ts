import { ActionError } from './errors.js'

export interface TokenClaims {
  jti?: string
  iat?: number
  exp?: number
  /** The Secret a bound token is tied to (`kubernetes.io.secret`). */
  boundSecret?: { name: string; uid: string }
}

function boundSecretOf(
  claims: Record<string, unknown>
): TokenClaims['boundSecret'] {
  const kube = claims['kubernetes.io'] as { secret?: unknown } | undefined
  const secret = kube?.secret as { name?: unknown; uid?: unknown } | undefined
  return typeof secret?.name === 'string' && typeof secret.uid === 'string'
    ? { name: secret.name, uid: secret.uid }
    : undefined
}

/**
 * The JSON payload of a JWT, read and not verified: the one decoder for the
 * minted token's claims and the ID token's issuer. Throws when the payload
 * is not JSON.
 */
export function jwtPayload(token: string): unknown {
  const payload = token.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
}

/**
 * Read (not verify) the claims of a JWT. The API server signed it a moment
 * ago over TLS; we only need `jti` for the audit trail. Errors never quote
 * the token.
 */
export function decodeClaims(token: string): TokenClaims {
  const parts = token.split('.')
  if (parts.length !== 3) {
    throw new ActionError(
      'The API server returned a token that is not a JWT: check that the ' +
        'cluster issues ServiceAccount tokens through the TokenRequest API.'
    )
  }
  try {
    const claims = jwtPayload(token) as Record<string, unknown>
    return {
      jti: typeof claims.jti === 'string' ? claims.jti : undefined,
      iat: typeof claims.iat === 'number' ? claims.iat : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
      boundSecret: boundSecretOf(claims)
    }
  } catch {
    throw new ActionError(
      'The API server returned a token whose claims cannot be read as JSON: ' +
        'check the cluster’s service-account token issuer.'
    )
  }
}
