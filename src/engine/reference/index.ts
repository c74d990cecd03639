// The reference backend and its float64-capable core math (for gradient checks and other backends' tests).
export { ReferenceBackend } from './backend';
export { erf, erfc, normalCdf, normalPdf } from './erf';
export { ropeTable, ropeRotate } from '../rope';
export type { Vec } from './types';
