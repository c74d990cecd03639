// The strategy registry: names as the experiment config and the CLI spell them.
import { AdversarialStrategy } from './adv';
import { ErmStrategy } from './erm';
import { GroupDroStrategy } from './groupdro';
import { PaperGroupDroStrategy } from './groupdro-paper';
import { InverseFrequencyStrategy } from './if';
import type { Strategy } from '../../train/strategy';

/**
 * 'groupdro' is online GroupDRO as Sagawa et al. define and implement it; 'groupdro-paper' is the FairTune
 * paper's description (normalised group losses reweight the batch and shift the sampling).
 */
export const STRATEGY_NAMES = ['erm', 'if', 'groupdro', 'groupdro-paper', 'adv'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyParams {
  /** GroupDRO step size η. */
  groupdroEta: number;
  /** η of the paper's reweighting, gw_g = 1 + η·L̂_g (L̂ sums to 1 over the present groups). */
  reweightEta: number;
  /** ADV gradient-reversal strength λ. */
  advLambda: number;
  /** ADV adversary hidden width. */
  advWidth: number;
}

export const DEFAULT_STRATEGY_PARAMS: StrategyParams = { groupdroEta: 0.01, reweightEta: 1, advLambda: 0.1, advWidth: 64 };

export function makeStrategy(name: string, p: StrategyParams = DEFAULT_STRATEGY_PARAMS): Strategy {
  switch (name) {
    case 'erm': return new ErmStrategy();
    case 'if': return new InverseFrequencyStrategy();
    case 'groupdro': return new GroupDroStrategy(p.groupdroEta);
    case 'groupdro-paper': return new PaperGroupDroStrategy(p.reweightEta);
    case 'adv': return new AdversarialStrategy(p.advLambda, p.advWidth);
    default: throw new Error(`unknown strategy '${name}' (choose ${STRATEGY_NAMES.join(', ')})`);
  }
}

export type { Strategy } from '../../train/strategy';
