// The messages between the main thread (WebGpuBackend, through DeviceClient) and the device worker that owns
// the GPUDevice. Types only: the worker is compiled on its own, so nothing here may be a runtime value.
//
// The main thread queues commands and posts them in batches; the worker executes a batch in order, encoding
// consecutive dispatches into one compute pass. A batch may end with a sync request: the worker then copies
// the requested ranges into a SharedArrayBuffer, waits for the queue, and signals the main thread, which is
// blocked in Atomics.wait on the control words (layout below).

// Control words (an Int32Array over a SharedArrayBuffer; the worker cannot import runtime values from here, so
// both sides define these indices as local constants):
//   [0] DONE         sequence number of the last completed sync (the init is sync 1)
//   [1] STATUS       0: the sync succeeded; 1: an error is reported in the text buffer
//   [2] TEXT_LENGTH  byte length of the UTF-8 text in the text buffer (error, or the init's JSON description)
export type ControlWord = 0 | 1 | 2;

export type Command =
  | { c: 'alloc'; id: number; bytes: number }
  | { c: 'free'; id: number }
  | { c: 'write'; id: number; byteOffset: number; data: Float32Array }
  | { c: 'clear'; id: number; byteOffset: number; bytes: number }
  | { c: 'copy'; src: number; srcOffset: number; dst: number; dstOffset: number; bytes: number }
  | {
      c: 'pipeline'; key: number; code: string; entry: string;
      /** One letter per storage binding: 'r' read-only, 'w' read-write. */
      layout: string; label: string;
    }
  | {
      c: 'dispatch'; pipeline: number; layout: string; buffers: number[]; uniformOffset: number;
      groups: [number, number, number]; op: string;
    };

export interface ReadRequest {
  id: number;
  byteOffset: number;
  bytes: number;
  /** Where the bytes go in the sync's output SharedArrayBuffer. */
  outOffset: number;
}

export interface BatchMessage {
  type: 'batch';
  cmds: Command[];
  /** Uniform arena contents for this batch (dispatch uniformOffsets index into it). */
  uniforms: ArrayBuffer;
  sync?: { seq: number; reads: ReadRequest[]; out: SharedArrayBuffer | null };
}

export interface ShutdownMessage {
  type: 'shutdown';
  seq: number;
}

/** Ends a worker whose device was shut down (see DeviceClient.shutdown for when). */
export interface CloseMessage {
  type: 'close';
}

export type WorkerMessage = BatchMessage | ShutdownMessage | CloseMessage;

export interface WorkerInit {
  /** file: URL of the `webgpu` package's entry (resolved by the main thread). */
  webgpuUrl: string;
  /**
   * Candidate option sets for create(), in order of preference (e.g. [['backend=vulkan'], ['backend=opengles']]):
   * the worker takes the first that yields a hardware adapter, else the last that yields any adapter.
   */
  createOptions: string[][];
  featureLevel: 'compatibility' | 'core';
  ctrl: SharedArrayBuffer;
  text: SharedArrayBuffer;
  /** Byte size of the uniform arena and of each dispatch's uniform binding. */
  uniformArenaBytes: number;
  uniformBindingBytes: number;
}

/** What the worker reports after creating the device (JSON in the text buffer of sync 1). */
export interface DeviceDescription {
  adapter: string;
  limits: Record<string, number>;
  /** The create() options of the adapter taken. */
  options: string[];
  /** Whether that adapter is a software rasteriser (llvmpipe, lavapipe, SwiftShader) rather than a GPU. */
  software: boolean;
  /** What each candidate gave, in order ("backend=vulkan: no adapter", …). */
  tried: string[];
}
