/**
 * Child process for the lock tests: takes the space lock, prints `locked <pid>`, and holds it until it is
 * killed or told `release` on stdin.
 *
 * argv: stateDir command
 */
import { acquireLock } from '../../../src/fs/lock.js'

const [stateDir, command] = process.argv.slice(2)
const release = await acquireLock(stateDir!, { command: command!, wait: 5000 })
process.stdout.write(`locked ${process.pid}\n`)
process.stdin.on('data', async (d) => {
  if (d.toString().includes('release')) {
    await release()
    process.stdout.write('released\n')
    process.exit(0)
  }
})
