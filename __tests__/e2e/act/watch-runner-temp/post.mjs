// Lists RUNNER_TEMP (relative paths, depth first) into the drop directory.
import fs from 'node:fs'
import path from 'node:path'

const temp = process.env.RUNNER_TEMP ?? ''
const drop = process.env.INPUT_DROP ?? ''
const left = fs.readdirSync(temp, { recursive: true }).map(String).sort()
fs.writeFileSync(
  path.join(drop, 'runner-temp-after-posts.json'),
  JSON.stringify({ runnerTemp: temp, left })
)
console.log(
  `watch-runner-temp: left in RUNNER_TEMP after the other post steps: ${left.length === 0 ? 'nothing' : left.join(', ')}`
)
