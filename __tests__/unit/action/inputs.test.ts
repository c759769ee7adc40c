import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { InputError } from '../../../src/core/errors.js'
import {
  getCaDataInput,
  getCleanupInput,
  getInputs,
  getKubeconfigInput,
  parseList
} from '../../../src/action/inputs.js'
import { TestRunner } from '../../../__fixtures__/runner.js'
import {
  OIDC_CA_DATA,
  OIDC_CA_PEM
} from '../../../__fixtures__/id-token-stub.js'

const CA_PEM = OIDC_CA_PEM
const CA_DATA = OIDC_CA_DATA
const OIDC = {
  'oidc-audience': 'https://k8s.example.com',
  server: 'https://203.0.113.10:6443',
  'certificate-authority-data': CA_DATA
}
const b64 = (text: string): string => Buffer.from(text).toString('base64')

let runner: TestRunner

beforeEach(() => {
  runner = new TestRunner()
})

afterEach(() => {
  runner.restore()
})

/** The error getInputs() throws for these inputs (service-account defaults to a valid name). */
function inputError(inputs: Record<string, string>): InputError {
  runner.setInputs({ 'service-account': 'scanner', ...inputs })
  try {
    getInputs()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`getInputs() accepted ${JSON.stringify(inputs)}`)
}

describe('inputs.ts', () => {
  describe('bad inputs', () => {
    it.each<[string, Record<string, string>, string, RegExp | null]>([
      [
        'a duration with an unknown unit',
        { duration: '10x' },
        'duration',
        /not a duration/
      ],
      ['a negative duration', { duration: '-15m' }, 'duration', null],
      ['a sub-second unit', { duration: '900ms' }, 'duration', null],
      [
        'a duration below the 600 s minimum',
        { duration: '5m' },
        'duration',
        /600s/
      ],
      [
        'plain seconds below the minimum',
        { duration: '599' },
        'duration',
        /600s/
      ],
      [
        'a duration above max-duration',
        { duration: '2h' },
        'duration',
        /'max-duration' \(1h\)/
      ],
      [
        'a duration above a raised max-duration',
        { duration: '6h1s', 'max-duration': '6h' },
        'duration',
        /'max-duration' \(6h\)/
      ],
      [
        'a fractional number of seconds',
        { duration: '1.5s' },
        'duration',
        /whole number/
      ],
      [
        'a max-duration that is not a duration',
        { 'max-duration': 'forever' },
        'max-duration',
        null
      ],
      [
        'a max-duration below the minimum',
        { 'max-duration': '5m' },
        'max-duration',
        /600s/
      ],
      [
        'a max-duration above 2^32 seconds',
        { 'max-duration': '4294967297' },
        'max-duration',
        null
      ],
      [
        'a namespace with capitals and an underscore',
        { namespace: 'Bad_NS' },
        'namespace',
        null
      ],
      [
        'a namespace of 64 characters',
        { namespace: 'a'.repeat(64) },
        'namespace',
        null
      ],
      ['a namespace with dots', { namespace: 'team.scans' }, 'namespace', null],
      // Found by the property test: the value is repeated with its line break escaped.
      [
        'a namespace with a line break inside',
        { namespace: 'a\nb' },
        'namespace',
        /is 'a\\nb', which/
      ],
      [
        'a namespace ending in a hyphen',
        { namespace: 'scans-' },
        'namespace',
        null
      ],
      [
        'an invalid service-account name',
        { 'service-account': 'Scanner!' },
        'service-account',
        null
      ],
      [
        'a service-account of 254 characters',
        { 'service-account': 'a'.repeat(254) },
        'service-account',
        null
      ],
      [
        'a missing service-account',
        { 'service-account': '' },
        'service-account',
        /required/
      ],
      [
        'a blank service-account',
        { 'service-account': '   ' },
        'service-account',
        /required/
      ],
      ['an unknown bind-to', { 'bind-to': 'configmap' }, 'bind-to', /'secret'/],
      ['bind-to pod: without a name', { 'bind-to': 'pod:' }, 'bind-to', null],
      [
        'bind-to pod: with an invalid name',
        { 'bind-to': 'pod:Bad_Pod' },
        'bind-to',
        /Pod name/
      ],
      [
        'a Pod binding of exactly 3607 s, which the API server extends to a year',
        { 'bind-to': 'pod:scanner-0', duration: '3607s', 'max-duration': '2h' },
        'duration',
        /extends to a year/
      ],
      [
        'a Pod binding with duration: auto capped at a 3607 s max-duration',
        { 'bind-to': 'pod:scanner-0', 'max-duration': '3607' },
        'max-duration',
        /'duration: auto'/
      ],
      [
        'export-kubeconfig: yes',
        { 'export-kubeconfig': 'yes' },
        'export-kubeconfig',
        /true or false/
      ],
      ['cleanup: no', { cleanup: 'no' }, 'cleanup', /true or false/],
      [
        'output-token: 1',
        { 'output-token': '1' },
        'output-token',
        /true or false/
      ],
      [
        'a stored kubeconfig together with the OIDC inputs',
        { ...OIDC, kubeconfig: 'apiVersion: v1\nkind: Config\n' },
        'oidc-audience',
        /^Inputs 'kubeconfig' and 'oidc-audience' are exclusive/
      ],
      [
        'a stored kubeconfig together with only server',
        { server: OIDC.server, kubeconfig: 'apiVersion: v1\n' },
        'server',
        /^Inputs 'kubeconfig' and 'server' are exclusive/
      ],
      [
        'oidc-audience alone',
        { 'oidc-audience': 'aud' },
        'server',
        /^Inputs 'server' and 'certificate-authority-data' are missing.*remove 'oidc-audience'/
      ],
      [
        'server alone',
        { server: OIDC.server },
        'oidc-audience',
        /^Inputs 'oidc-audience' and 'certificate-authority-data' are missing/
      ],
      [
        'the OIDC inputs without certificate-authority-data',
        { ...OIDC, 'certificate-authority-data': '' },
        'certificate-authority-data',
        /^Input 'certificate-authority-data' is missing/
      ],
      [
        'an http:// server',
        { ...OIDC, server: 'http://203.0.113.10:6443' },
        'server',
        /not an https:\/\/ URL/
      ],
      [
        'a server without a scheme',
        { ...OIDC, server: 'k8s.example.com:6443' },
        'server',
        /not an https:\/\/ URL/
      ],
      [
        'a server that is not a URL',
        { ...OIDC, server: 'https://k8s example.com' },
        'server',
        /not a URL/
      ],
      [
        'certificate-authority-data that is not base64',
        { ...OIDC, 'certificate-authority-data': 'not base64!' },
        'certificate-authority-data',
        /not valid base64/
      ],
      [
        'certificate-authority-data given as PEM text',
        { ...OIDC, 'certificate-authority-data': CA_PEM },
        'certificate-authority-data',
        /PEM text, not its base64/
      ],
      [
        'certificate-authority-data that decodes to something else',
        { ...OIDC, 'certificate-authority-data': b64('hello world, no PEM') },
        'certificate-authority-data',
        /no PEM certificate/
      ],
      [
        'certificate-authority-data whose certificate does not parse',
        {
          ...OIDC,
          'certificate-authority-data': b64(
            `${CA_PEM}-----BEGIN CERTIFICATE-----\nMIIBbroken\n-----END CERTIFICATE-----\n`
          )
        },
        'certificate-authority-data',
        /\(number 2\) that does not parse as X\.509/
      ],
      [
        'a context with the OIDC bootstrap',
        { ...OIDC, context: 'ci' },
        'context',
        /remove 'context'/
      ],
      [
        'renew-every below the API server minimum',
        { ...OIDC, 'renew-every': '5m' },
        'renew-every',
        /minimum token lifetime is 600s/
      ],
      [
        'renew-every that is not a duration',
        { ...OIDC, 'renew-every': 'hourly' },
        'renew-every',
        /not a duration/
      ],
      [
        'renew-every with a stored kubeconfig',
        { 'renew-every': '10m', kubeconfig: 'apiVersion: v1' },
        'renew-every',
        /long-lived credential on disk: use the OIDC inputs/
      ],
      [
        'renew-every without the per-run Secret',
        { ...OIDC, 'renew-every': '10m', 'bind-to': 'none' },
        'renew-every',
        /needs 'bind-to: secret'/
      ],
      [
        'renew-every with output-token',
        { ...OIDC, 'renew-every': '10m', 'output-token': 'true' },
        'renew-every',
        /exclusive/
      ]
    ])(
      'rejects %s with one sentence naming the input',
      (_case, inputs, name, detail) => {
        const error = inputError(inputs)
        expect(error).toBeInstanceOf(InputError)
        expect(error.message).toContain(`'${name}'`)
        expect(error.message).not.toContain('\n')
        expect(error.message).toMatch(/^[A-Z].*\.$/)
        // One sentence: no full stop followed by another sentence.
        expect(error.message).not.toMatch(/\.\s+[A-Z]/)
        if (detail) expect(error.message).toMatch(detail)
      }
    )

    it('never echoes a password given in server', () => {
      const error = inputError({
        ...OIDC,
        server: 'https://admin:hunter2@203.0.113.10:6443'
      })
      expect(error.message).toContain(`'server'`)
      expect(error.message).not.toContain('hunter2')
    })

    it.each([
      [
        'an http:// server',
        'http://admin:pw-http-4417@203.0.113.10:6443',
        'pw-http-4417'
      ],
      [
        'a server that is not a URL',
        'https://admin:pw-nourl-5523@k8s example.com',
        'pw-nourl-5523'
      ]
    ])(
      'never echoes a password in %s either, and masks it',
      (_what, server, password) => {
        const error = inputError({ ...OIDC, server })
        expect(error.message).toMatch(/carries a user name or password/)
        expect(error.message).not.toContain(password)
        expect(
          runner.commands('add-mask').some((line) => line.includes(password))
        ).toBe(true)
      }
    )

    it('rejects empty certificate-authority-data when post reads it again', () => {
      runner.setInputs({ 'certificate-authority-data': '' })
      expect(() => getCaDataInput()).toThrow(
        /^Input 'certificate-authority-data' is empty/
      )
    })

    it('rejects a bad boolean in the post step too', () => {
      runner.setInputs({ cleanup: 'yes' })
      expect(() => getCleanupInput()).toThrow(InputError)
    })
  })

  describe('valid inputs', () => {
    it('reads renew-every: empty is off, a duration is seconds', () => {
      runner.setInputs({ 'service-account': 'scanner', ...OIDC })
      expect(getInputs().renewEverySeconds).toBeUndefined()
      runner.setInputs({
        'service-account': 'scanner',
        ...OIDC,
        'renew-every': '15m'
      })
      expect(getInputs().renewEverySeconds).toBe(900)
    })

    it('applies the documented defaults when only service-account is set', () => {
      runner.setInputs({ 'service-account': 'scanner' })
      expect(getInputs()).toMatchObject({
        serviceAccount: 'scanner',
        namespace: 'default',
        duration: { kind: 'auto' },
        maxDurationSeconds: 3600,
        audiences: [],
        bindTo: { kind: 'secret' },
        kubeconfig: '',
        context: '',
        exportKubeconfig: true,
        cleanup: true,
        outputToken: false
      })
    })

    it('gives the same result with the defaults the runner passes from action.yml', () => {
      const action = yaml.load(
        fs.readFileSync(
          path.join(import.meta.dirname, '..', '..', '..', 'action.yml'),
          'utf8'
        )
      ) as { inputs: Record<string, { default?: string }> }
      const defaults: Record<string, string> = {}
      for (const [name, spec] of Object.entries(action.inputs)) {
        // Expression defaults (github-token, job-context) are the runner's to evaluate.
        if (spec.default !== undefined && !spec.default.includes('${{')) {
          defaults[name] = spec.default
        }
      }
      runner.setInputs({ ...defaults, 'service-account': 'scanner' })
      const fromRunner = getInputs()
      runner.setInputs({ 'service-account': 'scanner' })
      expect(fromRunner).toEqual(getInputs())
    })

    it('reads every input, trimming values', () => {
      runner.setInputs({
        'service-account': ' scanner.v2 ',
        namespace: ' scans ',
        duration: '1h30m',
        'max-duration': '6h',
        'bind-to': 'none',
        context: ' ci ',
        'export-kubeconfig': 'False',
        cleanup: 'FALSE',
        'output-token': 'True'
      })
      expect(getInputs()).toMatchObject({
        serviceAccount: 'scanner.v2',
        namespace: 'scans',
        duration: { kind: 'explicit', seconds: 5400 },
        maxDurationSeconds: 21600,
        bindTo: { kind: 'none' },
        context: 'ci',
        exportKubeconfig: false,
        cleanup: false,
        outputToken: true
      })
    })

    it('accepts a duration equal to max-duration and exactly 600 seconds', () => {
      runner.setInputs({ 'service-account': 'scanner', duration: '1h' })
      expect(getInputs().duration).toEqual({ kind: 'explicit', seconds: 3600 })
      runner.setInputs({ 'service-account': 'scanner', duration: '600' })
      expect(getInputs().duration).toEqual({ kind: 'explicit', seconds: 600 })
    })

    it('parses audiences separated by commas and newlines, trimmed and without repeats', () => {
      runner.setInputs({
        'service-account': 'scanner',
        audiences:
          ' vault , https://kubernetes.default.svc\n\nvault,\r\nscanner-api ,'
      })
      expect(getInputs().audiences).toEqual([
        'vault',
        'https://kubernetes.default.svc',
        'scanner-api'
      ])
    })

    it('returns no audiences for blank input, so the API server uses its own', () => {
      expect(parseList(' , \n ')).toEqual([])
    })

    it('parses bind-to pod:<name>', () => {
      runner.setInputs({
        'service-account': 'scanner',
        'bind-to': 'pod: scanner-0 '
      })
      expect(getInputs().bindTo).toEqual({ kind: 'pod', name: 'scanner-0' })
    })

    it('reads the OIDC bootstrap inputs, joining base64 that was wrapped over lines', () => {
      const wrapped = CA_DATA.replace(/(.{76})/g, '$1\n')
      expect(wrapped).toContain('\n')
      runner.setInputs({
        'service-account': 'scanner',
        ...OIDC,
        'certificate-authority-data': wrapped
      })
      expect(getInputs().oidc).toEqual({
        audience: 'https://k8s.example.com',
        server: 'https://203.0.113.10:6443',
        caData: CA_DATA
      })
    })

    it('accepts a CA bundle of several certificates', () => {
      const bundle = b64(`${CA_PEM}${CA_PEM}`)
      runner.setInputs({
        'service-account': 'scanner',
        ...OIDC,
        'certificate-authority-data': bundle
      })
      expect(getInputs().oidc?.caData).toBe(bundle)
      expect(getCaDataInput()).toBe(bundle)
    })

    it('has no OIDC bootstrap when none of its inputs is given', () => {
      runner.setInputs({ 'service-account': 'scanner' })
      expect(getInputs().oidc).toBeUndefined()
    })

    it('keeps the kubeconfig input exactly, whitespace included', () => {
      // A secret pasted with its first line indented (a block copied out of
      // a larger YAML file) must reach the YAML parser unchanged.
      const content = '  apiVersion: v1\n  clusters:\n    - name: ci\n'
      runner.setInputs({ 'service-account': 'scanner', kubeconfig: content })
      expect(getInputs().kubeconfig).toBe(content)
      expect(getKubeconfigInput()).toBe(content)
    })

    it.each([
      ['a Secret binding of 3607 s', { duration: '3607s' }],
      ['a Pod binding of 3608 s', { 'bind-to': 'pod:p', duration: '3608s' }],
      ['a Pod binding of 1 h', { 'bind-to': 'pod:p', duration: '1h' }]
    ])('accepts %s, which the API server does not extend', (_case, extra) => {
      runner.setInputs({
        'service-account': 'scanner',
        'max-duration': '2h',
        ...extra
      })
      expect(() => getInputs()).not.toThrow()
    })
  })
})
