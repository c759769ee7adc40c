// The one bundle the runner loads for both steps (action.yml points `main`
// and `post` here). Main marks itself in saved state before anything else,
// and the runner hands that state to post.
import { run as runMain } from './main.js'
import { run as runPost } from './post.js'
import { isPost, markMainStarted } from './runner/state.js'

if (isPost()) {
  await runPost()
} else {
  markMainStarted()
  await runMain()
}
