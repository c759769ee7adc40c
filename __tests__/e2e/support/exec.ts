import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as path from 'node:path'
import type { Duplex } from 'node:stream'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { KUBECTL, REPO, eventually, type CommandResult } from './cluster.ts'

/** The test cluster's Node (scripts/cluster/common.mjs NODE_NAME). */
export const NODE_NAME = 'node-1'
/** The node agent's log, to check that no credential reaches it. */
export const NODE_LOG = path.join(REPO, '.cluster', 'node.log')

/**
 * The real kubectl with one kubeconfig, stdin fed from `input` and extra
 * environment (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false for SPDY).
 */
export function kubectlWith(
  kubeconfig: string,
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {}
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: path.dirname(kubeconfig),
        ...options.env
      },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(options.input ?? '')
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout, stderr })
    })
  })
}

/**
 * The credential-id (jti) the API server sees for what kubectl sends with
 * `kubeconfig`: from its own SelfSubjectReview answer, not from any file of
 * the helper's.
 */
export async function jtiSeen(
  kubeconfig: string,
  env: Record<string, string>
): Promise<{ code: number; jti?: string; stderr: string }> {
  const res = await kubectlWith(kubeconfig, ['auth', 'whoami', '-o', 'json'], {
    env
  })
  if (res.code !== 0) return { code: res.code, stderr: res.stderr }
  const review = JSON.parse(res.stdout) as {
    status: { userInfo: { extra?: Record<string, string[]> } }
  }
  const id =
    review.status.userInfo.extra?.['authentication.kubernetes.io/credential-id']
  return { code: 0, jti: id?.[0]?.replace(/^JTI=/, ''), stderr: res.stderr }
}

/** Wait until the node agent reports the pod Running with its containers ready. */
export async function untilRunning(
  admin: KubeConfig,
  namespace: string,
  name: string
): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api)
  const ready = await eventually(30, async () => {
    const pod = await core.readNamespacedPod({ namespace, name })
    return (
      pod.status?.phase === 'Running' &&
      (pod.status.containerStatuses ?? []).every((c) => c.ready)
    )
  })
  if (!ready) throw new Error(`pod ${namespace}/${name} never became Running`)
}

export interface WebSocketExecResult {
  /** The HTTP status of the upgrade (101 when the exec session opened). */
  status: number
  stdout: string
  stderr: string
  /** The v4 protocol's closing Status object (channel 3), if any. */
  result?: {
    status?: string
    reason?: string
    details?: { causes?: { reason?: string; message?: string }[] }
  }
  /** The body of a refused upgrade. */
  body: string
}

/**
 * exec over a plain WebSocket with the v4.channel.k8s.io protocol, the one
 * the Python `kubernetes` client and older clients speak. The API server
 * translates only v5 (kubectl's) to SPDY; v4 is proxied to the node agent
 * as a WebSocket, so this reaches the agent's WebSocket path. Server frames
 * are unmasked; each binary frame's first byte is the channel (1 stdout,
 * 2 stderr, 3 the Status).
 */
export function webSocketExec(
  kubeconfigFile: string,
  namespace: string,
  pod: string,
  container: string,
  command: string[]
): Promise<WebSocketExecResult> {
  const doc = yaml.load(fs.readFileSync(kubeconfigFile, 'utf8')) as {
    clusters: {
      cluster: { server: string; 'certificate-authority-data': string }
    }[]
    users: { user: { token: string } }[]
  }
  const cluster = doc.clusters[0]?.cluster
  if (!cluster) throw new Error(`${kubeconfigFile} names no cluster`)
  const server = new URL(cluster.server)
  const query = new URLSearchParams({ container, stdout: '1', stderr: '1' })
  for (const arg of command) query.append('command', arg)
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: server.hostname,
      port: server.port,
      path: `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${query.toString()}`,
      method: 'GET',
      ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
      headers: {
        Authorization: `Bearer ${doc.users[0]?.user.token ?? ''}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': 'v4.channel.k8s.io'
      }
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, stdout: '', stderr: '', body })
      })
    })
    req.on('upgrade', (res, socket: Duplex, head: Buffer) => {
      const out: WebSocketExecResult = {
        status: res.statusCode ?? 0,
        stdout: '',
        stderr: '',
        body: ''
      }
      let buffer = head
      const finish = (): void => {
        socket.destroy()
        resolve(out)
      }
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk])
        for (;;) {
          if (buffer.length < 2) return
          const opcode = (buffer[0] ?? 0) & 0x0f
          let length = (buffer[1] ?? 0) & 0x7f
          let offset = 2
          if (length === 126) {
            if (buffer.length < 4) return
            length = buffer.readUInt16BE(2)
            offset = 4
          } else if (length === 127) {
            if (buffer.length < 10) return
            length = Number(buffer.readBigUInt64BE(2))
            offset = 10
          }
          if (buffer.length < offset + length) return
          const payload = buffer.subarray(offset, offset + length)
          buffer = buffer.subarray(offset + length)
          if (opcode === 8) {
            finish() // close
            return
          }
          if (opcode !== 2 || payload.length === 0) continue
          const text = payload.subarray(1).toString()
          if (payload[0] === 1) out.stdout += text
          else if (payload[0] === 2) out.stderr += text
          else if (payload[0] === 3 && text !== '')
            out.result = JSON.parse(text) as WebSocketExecResult['result']
        }
      })
      socket.on('end', finish)
      socket.on('error', finish)
    })
    req.end()
  })
}
