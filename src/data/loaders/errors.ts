// Thrown when a dataset folder cannot be used at all (missing root files, nothing loadable). Problems
// with single records do not throw: they are skipped and listed in LoadedDataset.report.
export class DatasetFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFolderError';
  }
}
