// action.yml's `runs.main`. The runner picks the stage by the file it starts,
// so nothing in the environment (where an earlier step can plant STATE_*
// variables through $GITHUB_ENV) can make main run post's code.
import { run } from '../main.js'

await run()
