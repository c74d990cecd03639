// The CUDA kernels' conformance, emulated on the CPU under two thread schedules (see suite.ts, lanes.ts).
import { lanesOf } from './lanes';
import { conformanceSuite } from './suite';

jest.setTimeout(300000);
conformanceSuite(lanesOf('cuda-emu'));
