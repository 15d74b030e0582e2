// Loaded with --import into a CLI process whose memory a test bounds: when the process exits, its peak
// resident memory (bytes) goes to the file VPM_TEST_PEAK_RSS_FILE names. The V8 heap limit alone
// (--max-old-space-size) does not bound Buffers, which live outside the heap.
import { writeFileSync } from 'node:fs';

const file = process.env.VPM_TEST_PEAK_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
