// The newcomer's path over http: `npm start`, i.e. `vpm-gateway start` with config/demo.yaml (the
// shared demo suite: test/e2e/demo-suite.ts).
import { join } from 'node:path';
import { describeDemo, root } from './demo-suite.ts';

describeDemo({ scheme: 'http', start: ['start', '--config', join(root, 'config/demo.yaml')] });
