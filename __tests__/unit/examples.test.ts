import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as yaml from 'js-yaml'

// examples/ against action.yml and against each other. The kubeconfig
// variant also runs end to end (__tests__/e2e/act-examples.e2e.test.ts); act
// has no OIDC, so for the OIDC variant this structure check is what keeps it
// honest.
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const EXAMPLES = path.join(ROOT, 'examples')
const ACTION_USES = 'your-org/ephemeral-scan-token@v1'
/** The OIDC bootstrap's inputs (action.yml has them; the OIDC example must use all three). */
const OIDC_INPUTS = ['oidc-audience', 'server', 'certificate-authority-data']

type Json = Record<string, unknown>
interface Step {
  uses?: string
  id?: string
  run?: string
  with?: Record<string, string>
  env?: Record<string, string>
}
interface Job {
  uses?: string
  'runs-on'?: string
  'timeout-minutes'?: string | number
  permissions?: Record<string, string>
  with?: Record<string, unknown>
  secrets?: Record<string, string>
  steps?: Step[]
  outputs?: Record<string, string>
}
interface Workflow {
  on: {
    workflow_call?: {
      inputs: Record<
        string,
        { type: string; required?: boolean; default?: unknown }
      >
      secrets?: Record<string, { required?: boolean }>
      outputs?: Record<string, { value: string }>
    }
  } & Json
  jobs: Record<string, Job>
}

function load(file: string): unknown {
  return yaml.load(fs.readFileSync(path.join(EXAMPLES, file), 'utf8'))
}
function loadAll(file: string): Json[] {
  return yaml.loadAll(
    fs.readFileSync(path.join(EXAMPLES, file), 'utf8')
  ) as Json[]
}

const action = yaml.load(
  fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> }
const actionInputs = Object.keys(action.inputs)

const REUSABLE = ['k8s-scan.yml', 'k8s-scan-oidc.yml']
const CALLERS: Record<string, string> = {
  'scan-caller.yml': 'k8s-scan.yml',
  'scan-caller-oidc.yml': 'k8s-scan-oidc.yml'
}

function actionStep(workflow: Workflow): Step {
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? [])
  const found = steps.filter((step) => step.uses === ACTION_USES)
  expect(found).toHaveLength(1)
  return found[0]!
}

/** Every `${{ <context>.<name> }}` name a text refers to. */
function referenced(text: string, context: string): string[] {
  return [
    ...text.matchAll(new RegExp(`\\b${context}\\.([A-Za-z0-9_-]+)`, 'g'))
  ].map((m) => m[1]!)
}

describe('examples/workflows', () => {
  it('has exactly the files the examples README lists', () => {
    const readme = fs.readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8')
    for (const dir of [
      'workflows',
      'cluster',
      'scan',
      'gitlab',
      'buildkite',
      'shell'
    ]) {
      for (const file of fs.readdirSync(path.join(EXAMPLES, dir)))
        expect(readme).toContain(`(${dir}/${file})`)
    }
  })

  describe.each(REUSABLE)('%s (reusable)', (file) => {
    const workflow = load(`workflows/${file}`) as Workflow
    const call = workflow.on.workflow_call!
    const text = fs.readFileSync(path.join(EXAMPLES, 'workflows', file), 'utf8')

    it('is called with namespace, service-account, timeout-minutes and scan-command', () => {
      expect(Object.keys(call.inputs)).toEqual(
        expect.arrayContaining([
          'namespace',
          'service-account',
          'timeout-minutes',
          'scan-command'
        ])
      )
      expect(call.inputs['timeout-minutes']?.type).toBe('number')
    })

    it("feeds the job's timeout-minutes and the action's job-timeout-minutes from the same input", () => {
      const job = workflow.jobs.scan!
      expect(job['timeout-minutes']).toBe('${{ inputs.timeout-minutes }}')
      expect(actionStep(workflow).with?.['job-timeout-minutes']).toBe(
        '${{ inputs.timeout-minutes }}'
      )
      expect(actionStep(workflow).with?.duration).toBe('auto')
    })

    it('gives the action only inputs it has, and fails on excess privilege', () => {
      const given = Object.keys(actionStep(workflow).with ?? {})
      for (const name of given) expect(actionInputs).toContain(name)
      expect(given).toContain('service-account')
      expect(actionStep(workflow).with?.['excess-privilege']).toBe('fail')
    })

    it('runs the scan command after the mint, through the environment', () => {
      const steps = workflow.jobs.scan!.steps!
      const mint = steps.findIndex((step) => step.uses === ACTION_USES)
      const scan = steps.findIndex(
        (step) => step.env?.SCAN_COMMAND === '${{ inputs.scan-command }}'
      )
      expect(scan).toBe(mint + 1)
      expect(steps[scan]!.run).toBe('eval "$SCAN_COMMAND"')
    })

    it('declares every input, secret and output it uses, and outputs only what the action sets', () => {
      for (const name of referenced(text, 'inputs'))
        expect(Object.keys(call.inputs)).toContain(name)
      for (const name of referenced(text, 'secrets'))
        expect(Object.keys(call.secrets ?? {})).toContain(name)
      for (const [name, output] of Object.entries(call.outputs ?? {})) {
        expect(output.value).toBe(`\${{ jobs.scan.outputs.${name} }}`)
        expect(workflow.jobs.scan!.outputs?.[name]).toBe(
          `\${{ steps.k8s.outputs.${name} }}`
        )
        expect(Object.keys(action.outputs)).toContain(name)
      }
    })
  })

  it('k8s-scan.yml bootstraps from the bootstrap-kubeconfig secret', () => {
    const workflow = load('workflows/k8s-scan.yml') as Workflow
    expect(
      workflow.on.workflow_call?.secrets?.['bootstrap-kubeconfig']
    ).toEqual(expect.objectContaining({ required: true }))
    const given = actionStep(workflow).with ?? {}
    expect(given.kubeconfig).toBe('${{ secrets.bootstrap-kubeconfig }}')
    for (const name of OIDC_INPUTS) expect(given).not.toHaveProperty(name)
  })

  it('k8s-scan-oidc.yml bootstraps from the job ID token: id-token: write, the three OIDC inputs, no secret', () => {
    const workflow = load('workflows/k8s-scan-oidc.yml') as Workflow
    expect(workflow.jobs.scan!.permissions).toMatchObject({
      'id-token': 'write'
    })
    expect(workflow.on.workflow_call?.secrets).toBeUndefined()
    const given = actionStep(workflow).with ?? {}
    expect(given).not.toHaveProperty('kubeconfig')
    for (const name of OIDC_INPUTS) {
      expect(given[name]).toBe(`\${{ inputs.${name} }}`)
      expect(workflow.on.workflow_call?.inputs[name]).toMatchObject({
        type: 'string',
        required: true
      })
    }
  })

  describe.each(Object.entries(CALLERS))('%s (calls %s)', (file, called) => {
    const caller = load(`workflows/${file}`) as Workflow
    const reusable = load(`workflows/${called}`) as Workflow
    const job = caller.jobs.scan!
    const call = reusable.on.workflow_call!

    it('calls the reusable workflow with inputs it declares, every required one given', () => {
      expect(job.uses).toBe(`./.github/workflows/${called}`)
      for (const name of Object.keys(job.with ?? {}))
        expect(Object.keys(call.inputs)).toContain(name)
      for (const [name, input] of Object.entries(call.inputs))
        if (input.required) expect(job.with).toHaveProperty(name)
      for (const [name, secret] of Object.entries(call.secrets ?? {}))
        if (secret.required) expect(job.secrets).toHaveProperty(name)
    })

    it('grants at least the permissions the called job asks for', () => {
      // A called workflow can only narrow its caller's permissions.
      expect(job.permissions).toMatchObject(
        reusable.jobs.scan!.permissions ?? {}
      )
    })

    it('gives timeout-minutes as a number', () => {
      expect(typeof job.with?.['timeout-minutes']).toBe('number')
    })
  })
})

describe('examples/cluster', () => {
  const reusable = load('workflows/k8s-scan.yml') as Workflow
  const scanner = String(
    reusable.on.workflow_call?.inputs['service-account']?.default
  )
  const byKind = (docs: Json[], kind: string): Json[] =>
    docs.filter((doc) => doc.kind === kind)

  it('scanner.yaml defines the ServiceAccount the workflows default to, with pods read and exec only', () => {
    const docs = loadAll('cluster/scanner.yaml')
    const sa = byKind(docs, 'ServiceAccount')[0] as {
      metadata: { name: string }
    }
    expect(sa.metadata.name).toBe(scanner)
    const role = byKind(docs, 'Role')[0] as {
      rules: { resources: string[]; verbs: string[] }[]
    }
    expect(role.rules.flatMap((r) => r.resources).sort()).toEqual([
      'pods',
      'pods/exec'
    ])
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('*')
  })

  it.each(['cluster/minter.yaml', 'cluster/oidc-minter.yaml'])(
    '%s may mint for the scanner only, and create and delete Secrets',
    (file) => {
      const role = byKind(loadAll(file), 'Role')[0] as {
        rules: {
          resources: string[]
          verbs: string[]
          resourceNames?: string[]
        }[]
      }
      expect(role.rules).toEqual([
        {
          apiGroups: [''],
          resources: ['serviceaccounts/token'],
          verbs: ['create'],
          resourceNames: [scanner]
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] }
      ])
    }
  )

  describe('guardrails.yaml', () => {
    interface Policy {
      kind: string
      apiVersion: string
      metadata: { name: string }
      spec: {
        policyName?: string
        validationActions?: string[]
        failurePolicy?: string
        matchConstraints?: {
          resourceRules: { resources: string[]; operations: string[] }[]
        }
        matchConditions?: { expression: string }[]
        validations?: { expression: string; message: string }[]
      }
    }
    const docs = loadAll('cluster/guardrails.yaml') as unknown as Policy[]
    const policies = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicy')
    const bindings = docs.filter(
      (d) => d.kind === 'ValidatingAdmissionPolicyBinding'
    )
    const minter = byKind(
      loadAll('cluster/minter.yaml'),
      'ServiceAccount'
    )[0] as {
      metadata: { name: string; namespace: string }
    }
    const oidcUser = (
      byKind(loadAll('cluster/oidc-minter.yaml'), 'RoleBinding')[0] as {
        subjects: { name: string }[]
      }
    ).subjects[0]!.name
    const namespace = minter.metadata.namespace

    it('is admissionregistration.k8s.io/v1: three policies, each with a Deny binding', () => {
      for (const doc of docs)
        expect(doc.apiVersion).toBe('admissionregistration.k8s.io/v1')
      expect(policies.map((p) => p.metadata.name)).toEqual([
        'ephemeral-scan-token-requests',
        'ephemeral-scan-token-secret-create',
        'ephemeral-scan-token-secret-delete'
      ])
      expect(bindings.map((b) => b.spec.policyName)).toEqual(
        policies.map((p) => p.metadata.name)
      )
      for (const binding of bindings)
        expect(binding.spec.validationActions).toEqual(['Deny'])
      for (const policy of policies)
        expect(policy.spec.failurePolicy).toBe('Fail')
    })

    it("matches exactly the example minting identities, by the request's user", () => {
      const identities = [
        `system:serviceaccount:${namespace}:${minter.metadata.name}`,
        oidcUser
      ]
      for (const policy of policies) {
        const conditions = policy.spec.matchConditions ?? []
        expect(conditions).toHaveLength(1)
        const listed = [
          ...conditions[0]!.expression.matchAll(/'([^']+)'/g)
        ].map((m) => m[1])
        expect(conditions[0]!.expression).toMatch(
          /^request\.userInfo\.username in \[/
        )
        expect(listed).toEqual(identities)
      }
    })

    it('covers TokenRequests for the scanner and Secret create and delete', () => {
      const rules = policies.map((p) =>
        p.spec.matchConstraints!.resourceRules.map((r) => [
          r.resources,
          r.operations
        ])
      )
      expect(rules).toEqual([
        [[['serviceaccounts/token'], ['CREATE']]],
        [[['secrets'], ['CREATE']]],
        [[['secrets'], ['DELETE']]]
      ])
      const tokenRules = policies[0]!.spec.validations!.map((v) => v.expression)
      expect(tokenRules[0]).toBe(
        `request.namespace == '${namespace}' && request.name == '${scanner}'`
      )
      for (const policy of policies)
        for (const validation of policy.spec.validations ?? [])
          expect(validation.message).toMatch(/^the minting identity may /)
    })
  })

  describe('authentication-config.yaml', () => {
    const config = load('cluster/authentication-config.yaml') as {
      apiVersion: string
      kind: string
      jwt: {
        issuer: { url: string; audiences: string[] }
        claimValidationRules: { expression: string; message: string }[]
        claimMappings: { username: { expression: string } }
      }[]
    }
    const jwt = config.jwt[0]!

    it("trusts GitHub's issuer through the v1 structured authentication configuration", () => {
      expect(config.apiVersion).toBe('apiserver.config.k8s.io/v1')
      expect(config.kind).toBe('AuthenticationConfiguration')
      expect(config.jwt).toHaveLength(1)
      expect(jwt.issuer.url).toBe('https://token.actions.githubusercontent.com')
    })

    it('accepts exactly the audience the OIDC caller asks for', () => {
      const caller = load('workflows/scan-caller-oidc.yml') as Workflow
      expect(jwt.issuer.audiences).toEqual([
        caller.jobs.scan!.with?.['oidc-audience']
      ])
    })

    it('pins the owner by numeric id and the reusable OIDC workflow by job_workflow_ref', () => {
      const rules = jwt.claimValidationRules.map((r) => r.expression)
      expect(rules).toContainEqual(
        expect.stringMatching(/^claims\.repository_owner_id == "\d+"$/)
      )
      const refs = rules.find((r) => r.startsWith('claims.job_workflow_ref in'))
      expect(refs).toMatch(
        /"[\w.-]+\/[\w.-]+\/\.github\/workflows\/k8s-scan-oidc\.yml@refs\/heads\/main"/
      )
      for (const rule of jwt.claimValidationRules)
        expect(rule.message).not.toBe('')
    })

    it('maps jobs to the user oidc-minter.yaml binds', () => {
      const prefix = /^"([^"]+)" \+ claims\.repository_id$/.exec(
        jwt.claimMappings.username.expression
      )?.[1]
      expect(prefix).toBe('github:')
      const binding = byKind(
        loadAll('cluster/oidc-minter.yaml'),
        'RoleBinding'
      )[0] as {
        subjects: { kind: string; name: string }[]
      }
      expect(binding.subjects).toHaveLength(1)
      expect(binding.subjects[0]).toMatchObject({ kind: 'User' })
      expect(binding.subjects[0]!.name).toMatch(new RegExp(`^${prefix!}\\d+$`))
    })
  })
})
