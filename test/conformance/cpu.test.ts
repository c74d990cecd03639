// The cpu backend's conformance: every op case on every ISA path and in bf16 mode (see suite.ts, lanes.ts).
import { lanesOf } from './lanes';
import { conformanceSuite } from './suite';

conformanceSuite(lanesOf('cpu'));
