// action.yml's `runs.post`: see entry/main.ts. Post loads only its own code;
// the bundler shares the chunks both steps use.
import { run } from '../post.js'

await run()
