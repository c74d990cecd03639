// The reference backend's argument checks are the engine's shared ones (../op-checks.ts); re-exported here
// for the modules that import them from their old place.
export { checkDropP, checkDropoutKey, checkGroupIds, checkValues, requirePositive, requireSameShape } from '../op-checks';
