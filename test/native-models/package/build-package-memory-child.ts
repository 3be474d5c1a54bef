// Child process of build-package-memory.test.ts: builds one package and prints its memory use as
// JSON on the last stdout line. Run in its own process so the peak RSS (getrusage maxrss, which
// never goes down) belongs to this build alone and not to the test runner.
import { buildModelPackage } from '../../../native-models/package/node/build-package.ts';

const [checkpointDir, outDir] = process.argv.slice(2);
if (!checkpointDir || !outDir) throw new Error('usage: build-package-memory-child.ts <checkpoint-dir> <out-dir>');

// Everything the build needs is loaded (static import above), so this is the idle baseline.
const baselineMaxRssKiB = process.resourceUsage().maxRSS;
const started = performance.now();
const manifest = await buildModelPackage({ checkpointDir, outDir });
const seconds = (performance.now() - started) / 1000;
const peakMaxRssKiB = process.resourceUsage().maxRSS;
const packageBytes = manifest.files.reduce((a, f) => a + f.bytes, 0);
console.log(JSON.stringify({ baselineMaxRssKiB, peakMaxRssKiB, seconds, packageBytes }));
