// Buildkite's agent, with a fake `buildkite-agent` on PATH (a stand-in: no
// agent runs here): the CLI asks it for an ID token for the audience and
// takes the token from its stdout, and hands it values to redact on stdin,
// never in argv.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cliHost } from '../../../src/cli/host.js'
import { openIdentity } from '../../../src/cli/identity.js'
import { mainBounds } from '../../../src/core/kube/deadline.js'
import { OIDC_CA_DATA } from '../../../__fixtures__/id-token-stub.js'

let dir: string
const payload = Buffer.from(
  JSON.stringify({ aud: 'est', iss: 'https://agent.buildkite.com' })
).toString('base64url')
const ID_TOKEN = `eyJhbGciOiJSUzI1NiJ9.${payload}.c2lnbmF0dXJl`

/** The environment the CLI gets: the fake agent first on PATH. */
function env(): NodeJS.ProcessEnv {
  return {
    PATH: `${dir}:/usr/bin:/bin`,
    BUILDKITE: 'true',
    BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-token'
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'est-fake-agent-'))
  fs.writeFileSync(
    path.join(dir, 'buildkite-agent'),
    `#!/bin/sh
printf '%s\\n' "$*" >> "${dir}/argv"
if [ "$1" = redactor ]; then env > "${dir}/redactor-env"; cat >> "${dir}/stdin"; exit 0; fi
if [ "$1 $2" = "oidc request-token" ]; then printf '%s\\n' '${ID_TOKEN}'; exit 0; fi
exit 3
`,
    { mode: 0o755 }
  )
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('the Buildkite identity and redactor (fake buildkite-agent)', () => {
  it('requests the ID token for the audience and uses it only in memory', async () => {
    const bootstrap = await openIdentity(
      {
        kind: 'buildkite',
        audience: 'est',
        server: 'https://203.0.113.10:6443',
        caData: OIDC_CA_DATA
      },
      mainBounds(),
      env()
    )
    expect(bootstrap.ref).toEqual({
      source: { kind: 'oidc', audience: 'est' },
      context: '',
      server: 'https://203.0.113.10:6443'
    })
    expect(bootstrap.kc.getCurrentUser()?.token).toBe(ID_TOKEN)
    expect(bootstrap.describe()).toBe("the job's Buildkite ID token")
    expect(fs.readFileSync(path.join(dir, 'argv'), 'utf8')).toContain(
      'oidc request-token --audience est'
    )
  })

  it('hands a value to redactor add on stdin, never in argv', () => {
    cliHost('buildkite', undefined, env()).mask('s3cret-value')
    expect(fs.readFileSync(path.join(dir, 'stdin'), 'utf8')).toBe(
      's3cret-value'
    )
    const argv = fs.readFileSync(path.join(dir, 'argv'), 'utf8')
    expect(argv).toContain('redactor add')
    expect(argv).not.toContain('s3cret-value')
  })

  it('L3: runs the redactor without the ID-token variable or GitHub request tokens', () => {
    cliHost(
      'buildkite',
      undefined,
      {
        ...env(),
        MY_ID_TOKEN: 'id-token-value',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-value'
      },
      'MY_ID_TOKEN'
    ).mask('another-value')
    const childEnv = fs.readFileSync(path.join(dir, 'redactor-env'), 'utf8')
    expect(childEnv).toContain('BUILDKITE_AGENT_ACCESS_TOKEN=agent-token')
    expect(childEnv).not.toContain('id-token-value')
    expect(childEnv).not.toContain('request-token-value')
  })

  it('L3: asks no buildkite-agent outside an agent job (BUILDKITE=true alone)', async () => {
    fs.rmSync(path.join(dir, 'argv'), { force: true })
    await expect(
      openIdentity(
        {
          kind: 'buildkite',
          audience: 'est',
          server: 'https://203.0.113.10:6443',
          caData: OIDC_CA_DATA
        },
        mainBounds(),
        { PATH: `${dir}:/usr/bin:/bin`, BUILDKITE: 'true' }
      )
    ).rejects.toThrow(/needs a Buildkite agent job/)
    expect(fs.existsSync(path.join(dir, 'argv'))).toBe(false)
  })
})
