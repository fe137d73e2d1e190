// The trust badge on every contact and conversation (issue 4: "unverified / verified by … / changed").
// Text, not colour alone, carries the state; the description goes to the tooltip and screen readers.
import { h } from '../dom.ts';
import { badgeClass, badgeDescription, badgeText, type TrustView } from '../trust.ts';

export function trustBadge(c: TrustView): HTMLSpanElement {
  return h('span', { class: badgeClass(c.state), title: badgeDescription(c), 'data-trust': c.state }, badgeText(c));
}
