import { watcherContract } from './watcher.contract.js'
import { ScanWatcher } from '../../src/fs/scanWatcher.js'
import { Watcher } from '../../src/fs/watcher.js'

const include = ['.rhema/**/*.yaml']
watcherContract('Watcher (chokidar)', (root) => ({ w: new Watcher({ root, include }), look: async () => {} }))
watcherContract('ScanWatcher', (root) => {
  const w = new ScanWatcher({ root, include })
  return { w, look: () => w.scan() }
})
