// Fixed colours so a strategy (or group) has the same colour in every chart of a report. The two palettes
// share no hue family, so a bar coloured by group is never mistaken for a strategy. erm, the unmitigated
// baseline, is grey.

const STRATEGY_COLOURS: Record<string, string> = { erm: '#8c8c8c', if: '#4c78a8', groupdro: '#f58518', adv: '#54a24b' };
const EXTRA_ARM_COLOURS = ['#b279a2', '#9d755d', '#eeca3b', '#72b7b2', '#ff9da6', '#4c4c8c', '#a0522d', '#2f4f4f'];
const GROUP_COLOURS = ['#c2255c', '#0b7285', '#5f3dc4', '#a08a00', '#e8590c', '#364fc7', '#2b8a3e', '#862e9c'];

export interface ColourScale {
  domain: string[];
  range: string[];
}

/**
 * Colours of the arms, in display order. An arm whose label is exactly a known strategy gets that strategy's
 * colour; other arms (sweeps, unknown strategies) take the next colour of a second palette, cycling.
 */
export function armColours(arms: readonly string[]): ColourScale {
  let k = 0;
  const range = arms.map((a) => STRATEGY_COLOURS[a] ?? EXTRA_ARM_COLOURS[k++ % EXTRA_ARM_COLOURS.length]);
  return { domain: [...arms], range };
}

export function groupColours(groups: readonly string[]): ColourScale {
  return { domain: [...groups], range: groups.map((_, i) => GROUP_COLOURS[i % GROUP_COLOURS.length]) };
}
