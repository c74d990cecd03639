// Public surface of the real-dataset loaders (wired to `fairtune data import dalia|butppg|mimic`).
export type { LoadedDataset } from './types';
export { DatasetFolderError } from './errors';
export { loadDalia, DALIA_BVP_FS } from './dalia';
export { loadButPpg, type ButPpgOptions } from './butppg';
export { loadMimic, type MimicOptions } from './mimic';
