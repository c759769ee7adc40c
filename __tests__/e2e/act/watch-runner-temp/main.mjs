// Nothing to do in main: registering the post step is the point.
console.log(
  `watch-runner-temp: will list ${process.env.RUNNER_TEMP} after the other post steps`
)
