import { parseGoBool } from './go-bool.js';

/** The feature gates the mock kubelet knows; any other name is an error, as in the kubelet. */
export const FEATURE_GATES = ['KubeletFineGrainedAuthz', 'ContainerCheckpoint'] as const;

export type FeatureGateName = (typeof FEATURE_GATES)[number];
export type FeatureGates = Record<FeatureGateName, boolean>;

/** Both gates are on by default in the kubelet this package follows (v1.36). */
export const DEFAULT_FEATURE_GATES: Readonly<FeatureGates> = {
  KubeletFineGrainedAuthz: true,
  ContainerCheckpoint: true,
};

export function isFeatureGateName(name: string): name is FeatureGateName {
  return (FEATURE_GATES as readonly string[]).includes(name);
}

/**
 * Parses `--feature-gates` text (`A=true,B=false`) the way component-base's gate set does:
 * comma-separated, whitespace around entries ignored, Go booleans. Returns only the gates
 * named; throws an `Error` whose message is the reason (the caller adds the flag name).
 */
export function parseFeatureGates(text: string): Partial<FeatureGates> {
  const gates: Partial<FeatureGates> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = (eq === -1 ? entry : entry.slice(0, eq)).trim();
    if (eq === -1) throw new Error(`missing bool value for ${name}`);
    const valueText = entry.slice(eq + 1).trim();
    if (!isFeatureGateName(name)) throw new Error(`unrecognized feature gate: ${name}`);
    const value = parseGoBool(valueText);
    if (value === undefined) {
      throw new Error(`invalid value of ${name}=${valueText}, expected true or false`);
    }
    gates[name] = value;
  }
  return gates;
}
