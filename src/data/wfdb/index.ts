// Public surface of the WFDB reader.
export { WfdbError } from './errors';
export { parseHeader, readHeaderFile, headerPathOf, DEFAULT_GAIN, DEFAULT_FS } from './header';
export type { Header, SingleSegmentHeader, MultiSegmentHeader, SignalSpec, SegmentSpec, RecordLine } from './header';
export { SUPPORTED_FORMATS, invalidValue } from './formats';
export { INVALID_SAMPLE } from './signal-file';
export type { SignalInfo, SignalData } from './signals';
export { readRecord, readRecordWithHeader, recordLength, recordSignals } from './read';
export type { ReadOptions, WfdbRecord } from './read';
export { segmentStarts } from './multisegment';
export { secondsToSample, parseBaseTime, parseBaseDate } from './time';
