import type { AttributesFunction, PathRefused } from '../contracts.js';
import { invalidOption } from '../option-errors.js';
import { kubeletRequestAttributes, kubeletRouteConflict } from './attributes.js';
import { PATH_REFUSALS, routedPathOf } from './request-path.js';

/**
 * The kubelet's attributes as an {@link AttributesFunction}: `nodes/<subresource>` of
 * `nodeName`, verb from the method. A path that a case-insensitive or suffix-matching router
 * would dispatch to another kubelet handler than the one it is authorized for is refused (400).
 */
export function kubeletAttributes(options: {
  nodeName: string;
  fineGrained: boolean;
}): AttributesFunction {
  const { nodeName, fineGrained } = options;
  if (typeof nodeName !== 'string' || nodeName === '') {
    throw invalidOption(
      'kubeletAuthz: nodeName is required (the name of the Node the kubelet serves)',
    );
  }
  const kubelet = { nodeName, fineGrained };
  return function kubeletAttributesOf(req, user, path) {
    const conflict = kubeletRouteConflict(path, { routed: routedPathOf(req, path), fineGrained });
    if (conflict) return ROUTED_ELSEWHERE;
    return kubeletRequestAttributes(user, req.method ?? '', path, kubelet);
  };
}

const ROUTED_ELSEWHERE: PathRefused = Object.freeze({ refused: PATH_REFUSALS.routedElsewhere });
