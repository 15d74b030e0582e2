// The worker thread of ./older-segments.ts: verifies the older segments it is given and posts their problems.
import { parentPort, workerData } from 'node:worker_threads';
import { type OlderSegments, verifyOlderSegments } from './older-segments.ts';

parentPort?.postMessage(verifyOlderSegments(workerData as OlderSegments));
