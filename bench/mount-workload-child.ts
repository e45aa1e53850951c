/*
 * The process that drives one mount's workload (mount-workload.ts) for the mount benchmark: it
 * serves no mount itself, so its blocking syscalls into one are safe.
 */

import { answerParent } from './child-call.js';
import { runWorkload } from './mount-workload.js';

await answerParent(runWorkload);
