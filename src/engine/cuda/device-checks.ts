// Value checks left to the device. The op table's value rules need a tensor's values on the host; for a
// tensor a kernel wrote (GroupDRO's q, the loss's group statistics, the weights GroupDRO rewrites) the host
// has no shadow, and reading it back would cost a blocking copy per op. Instead its check runs on the device
// (kernels/cuda/check.cu), before the op's own kernel, and leaves a verdict in a slot of a small flag buffer.
// The flags travel with the next download (one round trip: downloadPair), and a raised slot becomes the same
// message the host check gives, marked as found on the device. Until that read, an op has run on the bad
// values; the kernels guard every index they take from data (group ids), so that costs a wrong number, never
// memory.
import { OpError } from '../check';
import {
  idsCountedMessage, valueRuleMessage, weightsSumMessage, type DeferredCheck,
} from '../ops/check-call';
import type { ValueRule } from '../ops/op-spec';
import type { Tensor } from '../tensor';
import type { CudaAddon, DeviceView } from './native-api';

/** Pending checks before the flags are read on their own (each check has two floats: index + 1, value). */
export const CHECK_SLOTS = 256;

/** kernels/cuda/check.cu CheckRule. */
function ruleCode(rule: ValueRule): number {
  if (typeof rule === 'object') return 5;
  return { finite: 0, unit: 1, nonNegative: 2, weights: 3, counts: 4 }[rule];
}

export class DeviceChecks {
  private flags: DeviceView | null = null;
  private readonly pending: { check: DeferredCheck; shape: readonly number[]; n: number }[] = [];

  constructor(private readonly native: CudaAddon, private readonly view: (t: Tensor) => DeviceView) {}

  /** Checks launched whose verdicts the host has not read yet. */
  get count(): number {
    return this.pending.length;
  }

  /** Launches c's check into the next slot; `flushFirst` reads the flags when every slot is taken. */
  add(c: DeferredCheck, flushFirst: () => void): void {
    if (this.pending.length === CHECK_SLOTS) flushFirst();
    const i = this.pending.length;
    const slot = this.slots(i, 1);
    if (c.kind === 'rule') {
      this.native.checkValues(this.view(c.tensor), ruleCode(c.rule), c.G, slot);
      this.pending.push({ check: c, shape: [...c.tensor.shape], n: c.tensor.size });
    } else {
      this.native.checkIdsCounted(this.view(c.idsTensor), this.view(c.countsTensor), slot);
      this.pending.push({ check: c, shape: [...c.idsTensor.shape], n: c.idsTensor.size });
    }
  }

  /** The flags of the pending checks (two floats each), to read with the next download; null when none. */
  pendingFlags(): DeviceView | null {
    return this.pending.length === 0 ? null : this.slots(0, this.pending.length);
  }

  /**
   * After the flags were read: clears them on the device and forgets the checks; throws the first failed
   * check's error (in the order the ops ran).
   */
  settle(flags: Float32Array): void {
    const checks = this.pending.splice(0);
    if (this.flags !== null && checks.length > 0) this.native.zero(this.slots(0, checks.length), 2 * checks.length);
    checks.forEach(({ check, shape, n }, k) => {
      const at = flags[2 * k], value = flags[2 * k + 1];
      if (at === 0) return;
      const i = at - 1;
      let message: string;
      if (check.kind === 'idsCounted') message = idsCountedMessage(check.ids, check.counts, i, value);
      else if (i === n) message = weightsSumMessage(check.name, shape, value);
      else message = valueRuleMessage(check.name, i, value, check.rule, check.G);
      throw new OpError(check.op, `${message} (checked on the device, reported at the next read)`);
    });
  }

  private slots(first: number, count: number): DeviceView {
    // alloc zero-fills: every slot starts as "passed".
    this.flags ??= { buf: this.native.alloc(2 * CHECK_SLOTS), offset: 0, length: 2 * CHECK_SLOTS };
    return { buf: this.flags.buf, offset: 2 * first, length: 2 * count };
  }
}
