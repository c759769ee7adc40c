/**
 * Property tests (fast-check) over the kubeconfig writer: whatever the
 * server, CA, TLS name, proxy, token and namespace hold (quotes, colons,
 * `#`, newlines, YAML indicators, anchors, unicode), the file parses back to
 * exactly the document that was meant, and client-node reads back the same
 * server, token and namespace: no value can inject YAML structure.
 */
import { describe, expect, it } from '@jest/globals'
import type { Cluster } from '@kubernetes/client-node'
import * as fc from 'fast-check'
import * as yaml from 'js-yaml'
import {
  ENTRY_NAME,
  buildKubeconfig,
  serialiseKubeconfig,
  toKubeConfig
} from '../../../../src/core/token/kubeconfig-file.js'

/** Text that tries to break out of a YAML scalar. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        '\n',
        '\r\n',
        ': ',
        '- ',
        '#',
        '"',
        "'",
        '&a ',
        '*a',
        '!!js/function ',
        '{',
        '}',
        '[',
        ']',
        '|',
        '>',
        '%',
        '@',
        '`',
        '---',
        '...',
        '\t',
        '\\',
        'users:',
        'token: x',
        '\u0085',
        '\u2028',
        '\ufeff',
        'é',
        '😀',
        'true',
        'null',
        '0x1F',
        '1e3',
        '~'
      ),
      { maxLength: 8 }
    )
    .map((parts) => parts.join(''))
)

/** Strings a well-formed JS string can be (no lone surrogates: YAML is UTF-8). */
const wellFormed = (arbitrary: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  arbitrary.filter(
    (s) =>
      !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(
        s
      )
  )

const fields = fc.record({
  server: wellFormed(
    fc.oneof(
      hostile.map((h) => `https://127.0.0.1:6443/${h}`),
      hostile.filter((h) => h.trim() !== '')
    )
  ),
  caData: fc.oneof(
    fc
      .uint8Array({ maxLength: 64 })
      .map((b) => Buffer.from(b).toString('base64')),
    wellFormed(hostile)
  ),
  tlsServerName: fc.option(wellFormed(hostile), { nil: undefined }),
  proxyUrl: fc.option(wellFormed(hostile), { nil: undefined }),
  token: wellFormed(hostile).filter((t) => t !== ''),
  namespace: wellFormed(hostile)
})

describe('kubeconfig-file.ts under hostile values (fast-check)', () => {
  it('writes YAML that parses back to exactly the kubeconfig that was meant', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const cluster: Cluster = {
          name: 'bootstrap',
          server: f.server,
          skipTLSVerify: false,
          caData: f.caData,
          ...(f.tlsServerName ? { tlsServerName: f.tlsServerName } : {}),
          ...(f.proxyUrl ? { proxyUrl: f.proxyUrl } : {})
        }
        const content = serialiseKubeconfig(
          buildKubeconfig(cluster, f.token, f.namespace)
        )
        const clusterEntry: Record<string, string> = { server: f.server }
        if (f.caData) clusterEntry['certificate-authority-data'] = f.caData
        if (f.tlsServerName) clusterEntry['tls-server-name'] = f.tlsServerName
        if (f.proxyUrl) clusterEntry['proxy-url'] = f.proxyUrl
        expect(yaml.load(content)).toEqual({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: ENTRY_NAME, cluster: clusterEntry }],
          users: [{ name: ENTRY_NAME, user: { token: f.token } }],
          contexts: [
            {
              name: ENTRY_NAME,
              context: {
                cluster: ENTRY_NAME,
                user: ENTRY_NAME,
                namespace: f.namespace
              }
            }
          ],
          'current-context': ENTRY_NAME,
          preferences: {}
        })
        // The client later steps (and the proof) use reads the same thing.
        const kc = toKubeConfig(content)
        expect(kc.getClusters()).toHaveLength(1)
        expect(kc.getUsers()).toHaveLength(1)
        expect(kc.getContexts()).toHaveLength(1)
        // client-node drops one trailing '/' from a server URL, by design.
        expect(kc.getCurrentCluster()?.server).toBe(f.server.replace(/\/$/, ''))
        expect(kc.getCurrentUser()?.token).toBe(f.token)
        // ...and reads an empty namespace as none (inputs never give one).
        expect(kc.getContextObject(ENTRY_NAME)?.namespace ?? '').toBe(
          f.namespace
        )
      }),
      { numRuns: 2000 }
    )
  })
})
