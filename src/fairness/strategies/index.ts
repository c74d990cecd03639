// The strategy registry: names as the experiment config and the CLI spell them.
import { AdversarialStrategy } from './adv';
import { ErmStrategy } from './erm';
import { GroupDroStrategy } from './groupdro';
import { InverseFrequencyStrategy } from './if';
import type { Strategy } from '../../train/strategy';

export const STRATEGY_NAMES = ['erm', 'if', 'groupdro', 'adv'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyParams {
  /** GroupDRO step size η. */
  groupdroEta: number;
  /** ADV gradient-reversal strength λ. */
  advLambda: number;
  /** ADV adversary hidden width. */
  advWidth: number;
}

export const DEFAULT_STRATEGY_PARAMS: StrategyParams = { groupdroEta: 0.01, advLambda: 0.1, advWidth: 64 };

export function makeStrategy(name: string, p: StrategyParams = DEFAULT_STRATEGY_PARAMS): Strategy {
  switch (name) {
    case 'erm': return new ErmStrategy();
    case 'if': return new InverseFrequencyStrategy();
    case 'groupdro': return new GroupDroStrategy(p.groupdroEta);
    case 'adv': return new AdversarialStrategy(p.advLambda, p.advWidth);
    default: throw new Error(`unknown strategy '${name}' (choose ${STRATEGY_NAMES.join(', ')})`);
  }
}

export type { Strategy } from '../../train/strategy';
