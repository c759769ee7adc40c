#!/usr/bin/env node
// Local test cluster: a real kube-apiserver (embedded etcd, see test/cluster)
// on loopback, plus kubectl, for the e2e tests and local experiments.
//
//   node scripts/cluster.mjs up      build if needed, start, write kubeconfig
//   node scripts/cluster.mjs down    stop and remove the cluster directory
//   node scripts/cluster.mjs build   (re)build .cache/bin/{kas,kubectl,node-agent} only
//
// `up` also starts the node agent (test/cluster/node) and waits until its
// Node (NODE_NAME) is Ready: pods bound to it run, and exec into them runs
// on this machine through the API server.
//
// Environment:
//   CLUSTER_DIR         cluster state directory (default: <repo>/.cluster), so
//                       tests can run a second, differently configured cluster
//   CLUSTER_EXTRA_ARGS  extra kube-apiserver flags, whitespace-separated, e.g.
//                       "--service-account-max-token-expiration=1h"
//   GO                  go binary (default: go on PATH, else /usr/local/go/bin/go)
//
// Plain Node ESM with built-ins only: it must run before `npm ci` and on both
// Node 20 and Node 24.
// The parts: scripts/cluster/build.mjs (Go build), credentials.mjs (keys,
// token, flags, client files), process.mjs (the running process, ports,
// readiness), common.mjs (paths and helpers).

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { build } from './cluster/build.mjs'
import {
  DIR,
  F,
  KAS,
  NODE_AGENT,
  NODE_NAME,
  READY_TIMEOUT_MS,
  log,
  seconds,
  sleep,
  writePrivate
} from './cluster/common.mjs'
import {
  apiserverArgs,
  checkAdminAccess,
  writeClientFiles,
  writeCredentials
} from './cluster/credentials.mjs'
import {
  freePorts,
  httpsGetBody,
  isOurApiserver,
  isOurNodeAgent,
  isReady,
  logTail,
  readPid,
  removeClusterDir,
  stopProcess
} from './cluster/process.mjs'

async function up() {
  build({ force: false })

  const oldPid = readPid()
  if (oldPid && isOurApiserver(oldPid)) {
    const port = Number.parseInt(fs.readFileSync(F.port, 'utf8'), 10)
    if (await isReady(port)) {
      log(
        `cluster already running at https://127.0.0.1:${port} (pid ${oldPid})`
      )
      const nodePid = readPid(F.nodePid)
      if (!nodePid || !isOurNodeAgent(nodePid)) {
        log('the node agent is not running; starting it')
        await startNode(port, adminToken())
      }
      return
    }
    log(`pid ${oldPid} is running but not ready; restarting the cluster`)
    await stopProcess(oldPid)
  }
  await stopNode()
  // Nothing usable is running: start from a clean slate so stale etcd data,
  // certificates or tokens can never leak into a new cluster.
  removeClusterDir()
  fs.mkdirSync(DIR, { recursive: true, mode: 0o700 })
  fs.chmodSync(DIR, 0o700)

  const tokens = writeCredentials()

  const [port, etcdClientPort, etcdPeerPort] = await freePorts(3)
  const args = apiserverArgs(port)
  const logFd = fs.openSync(F.log, 'a', 0o600)
  fs.writeSync(logFd, `# ${KAS} ${args.join(' ')}\n`)
  const started = Date.now()
  const child = spawn(KAS, args, {
    cwd: DIR,
    detached: true, // own process group: survives this script and Ctrl-C
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      KAS_ETCD_DIR: F.etcd,
      KAS_ETCD_CLIENT_PORT: String(etcdClientPort),
      KAS_ETCD_PEER_PORT: String(etcdPeerPort)
    }
  })
  fs.closeSync(logFd)
  let exited = null
  child.on('exit', (code, signal) => (exited = signal ?? `exit code ${code}`))
  child.on('error', (err) => (exited = err.message))
  child.unref()
  writePrivate(F.pid, `${child.pid}\n`)
  writePrivate(F.port, `${port}\n`)
  log(
    `starting kube-apiserver (pid ${child.pid}) on https://127.0.0.1:${port}...`
  )

  while (!(await isReady(port))) {
    if (exited !== null || Date.now() - started > READY_TIMEOUT_MS) {
      const why =
        exited !== null
          ? `exited (${exited})`
          : `not ready after ${READY_TIMEOUT_MS / 1000} s`
      console.error(
        `cluster: kube-apiserver ${why}; tail of ${F.log}:\n${logTail()}`
      )
      if (exited === null) await stopProcess(child.pid)
      process.exit(1)
    }
    await sleep(250)
  }

  const server = writeClientFiles(port, tokens)
  await checkAdminAccess(port, tokens.token)
  await startNode(port, tokens.token)
  log(`cluster ready at ${server} in ${seconds(started)} s`)
  log(`kubectl: ${path.relative(process.cwd(), F.kubectl) || F.kubectl}`)
}

function adminToken() {
  return fs.readFileSync(F.tokens, 'utf8').split('\n')[0].split(',')[0]
}

/** Is the Node registered with a Ready condition that is True? */
async function nodeReady(port, token) {
  const { status, body } = await httpsGetBody(
    port,
    `/api/v1/nodes/${NODE_NAME}`,
    {
      ca: fs.readFileSync(F.cert),
      headers: { Authorization: `Bearer ${token}` }
    }
  )
  if (status !== 200) return false
  const conditions = JSON.parse(body).status?.conditions ?? []
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True')
}

// The node agent, in its own process group like the API server. Its
// environment is PATH only: it passes that on to exec'd commands, and
// nothing of the caller's environment (a CI job's secrets) should reach them.
async function startNode(apiserverPort, token) {
  const [port] = await freePorts(1)
  const args = [
    'run',
    `--dir=${F.node}`,
    `--kubeconfig=${F.nodeKubeconfig}`,
    `--node-name=${NODE_NAME}`,
    `--port=${port}`
  ]
  const logFd = fs.openSync(F.nodeLog, 'a', 0o600)
  fs.writeSync(logFd, `# ${NODE_AGENT} ${args.join(' ')}\n`)
  const started = Date.now()
  const child = spawn(NODE_AGENT, args, {
    cwd: DIR,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' }
  })
  fs.closeSync(logFd)
  let exited = null
  child.on('exit', (code, signal) => (exited = signal ?? `exit code ${code}`))
  child.on('error', (err) => (exited = err.message))
  child.unref()
  writePrivate(F.nodePid, `${child.pid}\n`)
  writePrivate(F.nodePort, `${port}\n`)
  log(
    `starting the node agent (pid ${child.pid}) on https://127.0.0.1:${port}...`
  )
  while (!(await nodeReady(apiserverPort, token))) {
    if (exited !== null || Date.now() - started > READY_TIMEOUT_MS) {
      const why =
        exited !== null
          ? `exited (${exited})`
          : `Node ${NODE_NAME} not Ready after ${READY_TIMEOUT_MS / 1000} s`
      console.error(
        `cluster: node agent ${why}; tail of ${F.nodeLog}:\n${logTail(40, F.nodeLog)}`
      )
      if (exited === null) await stopProcess(child.pid)
      process.exit(1)
    }
    await sleep(200)
  }
  log(`node ${NODE_NAME} Ready in ${seconds(started)} s`)
}

async function stopNode() {
  const nodePid = readPid(F.nodePid)
  if (nodePid && isOurNodeAgent(nodePid)) {
    log(`stopping the node agent (pid ${nodePid})...`)
    await stopProcess(nodePid)
  }
}

async function down() {
  await stopNode()
  const pid = readPid()
  if (pid && isOurApiserver(pid)) {
    log(`stopping kube-apiserver (pid ${pid})...`)
    await stopProcess(pid)
    log('cluster stopped')
  } else if (fs.existsSync(DIR)) {
    log('no running cluster; removing state')
  } else {
    log('no cluster')
  }
  removeClusterDir()
}

const commands = {
  up,
  down,
  build: async () => build({ force: true })
}
const cmd = commands[process.argv[2]]
if (!cmd) {
  console.error('usage: node scripts/cluster.mjs up|down|build')
  process.exit(2)
}
await cmd()
