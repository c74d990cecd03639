// The webgpu backend's conformance, contiguous and at odd element offsets (see suite.ts, lanes.ts).
import { lanesOf } from './lanes';
import { conformanceSuite } from './suite';

jest.setTimeout(120000);
conformanceSuite(lanesOf('webgpu'));
